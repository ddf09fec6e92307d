#!/usr/bin/python3
"""The course's 4-layer network [12288, 20, 7, 5, 1] on the cat/non-cat data, in numpy.

ReLU hidden layers, a sigmoid output and the binary cross-entropy, trained by full-batch
gradient descent. The weights are drawn as the course's notebook draws them:
np.random.seed(1), then W_l = randn(n_l, n_{l-1}) / sqrt(n_{l-1}) in float64, b_l = 0.
The float32 variant casts those draws and the pixels to float32. Like the course's
L_model_backward, the backward pass also computes the gradient with respect to the
input pixels, which nothing uses: one 12288 x 20 x 209 product per iteration that a
leaner program would skip.

    course4.py DATA THREADS [--variant numpy-float64|numpy-float32]
"""

import common

VARIANTS = ("numpy-float64", "numpy-float32")
LAYER_SIZES = (12288, 20, 7, 5, 1)


def add_options(parser):
    parser.add_argument("--variant", choices=VARIANTS, default="numpy-float64",
                        help="precision (default: numpy-float64, as the course)")
    parser.add_argument("--iterations", type=int, default=2500,
                        help="gradient-descent iterations (default: 2500)")
    parser.add_argument("--learning-rate", type=float, default=0.0075,
                        help="step size (default: 0.0075)")


args = common.parse_args(__doc__.splitlines()[0], add_options)
common.limit_threads(args.threads)

import time  # noqa: E402

import numpy as np  # noqa: E402


def initialize(dtype):
    """Return [(W, b)] per layer, drawn in the course's order from numpy's seed 1."""
    np.random.seed(1)
    parameters = []
    for fan_in, fan_out in zip(LAYER_SIZES[:-1], LAYER_SIZES[1:]):
        w = np.random.randn(fan_out, fan_in) / np.sqrt(fan_in)
        parameters.append((w.astype(dtype), np.zeros((fan_out, 1), dtype=dtype)))
    return parameters


def forward(parameters, x):
    """Return the output activations and the (A_prev, Z) cache of every layer."""
    caches = []
    a = x
    for index, (w, b) in enumerate(parameters):
        z = np.dot(w, a) + b
        caches.append((a, z))
        a = np.maximum(0, z) if index < len(parameters) - 1 else 1 / (1 + np.exp(-z))
    return a, caches


def backward(parameters, caches, output, y):
    """Return [(dW, db)] per layer, computed as the course's L_model_backward does."""
    m = y.shape[1]
    gradients = [None] * len(parameters)
    da = -(np.divide(y, output) - np.divide(1 - y, 1 - output))
    for index in reversed(range(len(parameters))):
        w, _ = parameters[index]
        a_prev, z = caches[index]
        if index == len(parameters) - 1:
            s = 1 / (1 + np.exp(-z))
            dz = da * s * (1 - s)
        else:
            dz = np.array(da, copy=True)
            dz[z <= 0] = 0
        dw = 1. / m * np.dot(dz, a_prev.T)
        db = 1. / m * np.sum(dz, axis=1, keepdims=True)
        da = np.dot(w.T, dz)
        gradients[index] = (dw, db)
    return gradients


def cross_entropy(output, y):
    m = y.shape[1]
    return float(np.squeeze(1. / m * (-np.dot(y, np.log(output).T)
                                      - np.dot(1 - y, np.log(1 - output).T))))


def accuracy(parameters, x, y):
    output, _ = forward(parameters, x)
    return float(np.count_nonzero((output > 0.5) == (y > 0.5))) / y.size


def main():
    started = time.perf_counter()
    train_images, train_labels, test_images, test_labels = common.load_cat_data(args.data)
    dtype = np.float32 if args.variant.endswith("float32") else np.float64
    train_x = common.course_pixel_matrix(train_images).astype(dtype, copy=False)
    test_x = common.course_pixel_matrix(test_images).astype(dtype, copy=False)
    train_y = train_labels.reshape(1, -1).astype(dtype)
    test_y = test_labels.reshape(1, -1).astype(dtype)
    parameters = initialize(dtype)
    load_seconds = time.perf_counter() - started

    rate = dtype(args.learning_rate)
    costs = {}
    loop_started = time.perf_counter()
    for i in range(args.iterations):
        output, caches = forward(parameters, train_x)
        cost = cross_entropy(output, train_y)
        gradients = backward(parameters, caches, output, train_y)
        parameters = [(w - rate * dw, b - rate * db)
                      for (w, b), (dw, db) in zip(parameters, gradients)]
        if i % 100 == 0:
            costs[i] = cost
    train_seconds = time.perf_counter() - loop_started

    common.emit({
        "work": "course4",
        "variant": args.variant,
        "dtype": np.dtype(dtype).name,
        "threads": args.threads,
        "iterations": args.iterations,
        "learning_rate": args.learning_rate,
        "load_seconds": load_seconds,
        "train_seconds": train_seconds,
        "costs": {str(i): c for i, c in costs.items()},
        "train_accuracy": accuracy(parameters, train_x, train_y),
        "test_accuracy": accuracy(parameters, test_x, test_y),
        "versions": {"numpy": np.__version__},
        "blas": common.blas_description(),
    })


main()
