#!/usr/bin/python3
"""Multinomial logistic regression on Fashion-MNIST with scikit-learn's lbfgs solver.

Pixels / 255 as float64, 784 features, the default L2 penalty (C = 1) and lbfgs for
--max-iter iterations. The threads are OpenBLAS's, set from THREADS. n_jobs stays at its
default: scikit-learn 1.2 uses it only to split one-vs-rest fits, and n_jobs=2 moved the
single multinomial fit into a joblib worker process, which ran slower on 2 cores.

    softmax.py DATA THREADS [--max-iter 100]
"""

import common


def add_options(parser):
    parser.add_argument("--max-iter", type=int, default=100,
                        help="lbfgs iterations at most (default: 100)")


args = common.parse_args(__doc__.splitlines()[0], add_options)
common.limit_threads(args.threads)

import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402


def main():
    started = time.perf_counter()
    train_images, train_labels, test_images, test_labels = common.load_fashion_mnist(args.data)
    train_x = train_images.reshape(len(train_images), -1) / 255.
    test_x = test_images.reshape(len(test_images), -1) / 255.
    load_seconds = time.perf_counter() - started

    model = LogisticRegression(multi_class="multinomial", solver="lbfgs",
                               max_iter=args.max_iter)
    fit_started = time.perf_counter()
    with warnings.catch_warnings():
        # Stopping at max_iter before the tolerance is the benchmark's definition.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(train_x, train_labels)
    fit_seconds = time.perf_counter() - fit_started

    common.emit({
        "work": "softmax",
        "variant": "sklearn-lbfgs",
        "dtype": "float64",
        "threads": args.threads,
        "max_iter": args.max_iter,
        "iterations": int(np.max(model.n_iter_)),
        "load_seconds": load_seconds,
        "train_seconds": fit_seconds,
        "train_accuracy": float(model.score(train_x, train_labels)),
        "test_accuracy": float(model.score(test_x, test_labels)),
        "versions": {"numpy": np.__version__, "sklearn": sklearn.__version__},
        "blas": common.blas_description(),
    })


main()
