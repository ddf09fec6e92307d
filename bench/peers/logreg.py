#!/usr/bin/python3
"""The course's logistic regression on the cat/non-cat data, in numpy or PyTorch.

Pixels / 255 flattened to a 12288 x 209 matrix, zero weights and bias, full-batch
gradient descent on the binary cross-entropy. The cost is computed at every iteration,
as the course's propagate() does, and recorded every 100 iterations.

    logreg.py DATA THREADS [--variant numpy-float64|numpy-float32|torch-float32]
"""

import common

VARIANTS = ("numpy-float64", "numpy-float32", "torch-float32")
RECORDED_COSTS = (0, 100, 1000, 1900)


def add_options(parser):
    parser.add_argument("--variant", choices=VARIANTS, default="numpy-float64",
                        help="library and precision (default: numpy-float64, as the course)")
    parser.add_argument("--iterations", type=int, default=2000,
                        help="gradient-descent iterations (default: 2000)")
    parser.add_argument("--learning-rate", type=float, default=0.005,
                        help="step size (default: 0.005)")


args = common.parse_args(__doc__.splitlines()[0], add_options)
common.limit_threads(args.threads)

import time  # noqa: E402

import numpy as np  # noqa: E402


def train_numpy(x, y, dtype, iterations, learning_rate):
    """Run gradient descent in numpy; return (w, b, {iteration: cost})."""
    m = x.shape[1]
    inverse_m = dtype(1.0 / m)
    rate = dtype(learning_rate)
    w = np.zeros((x.shape[0], 1), dtype=dtype)
    b = dtype(0.0)
    costs = {}
    for i in range(iterations):
        a = 1 / (1 + np.exp(-(np.dot(w.T, x) + b)))
        cost = -np.sum(y * np.log(a) + (1 - y) * np.log(1 - a)) * inverse_m
        dz = a - y
        dw = np.dot(x, dz.T) * inverse_m
        db = np.sum(dz) * inverse_m
        w = w - rate * dw
        b = b - rate * db
        if i % 100 == 0:
            costs[i] = float(cost)
    return w, b, costs


def predict_numpy(w, b, x):
    return (1 / (1 + np.exp(-(np.dot(w.T, x) + b)))) > 0.5


def predict_torch(w, b, x):
    import torch

    return torch.sigmoid(torch.mm(w.t(), x) + b) > 0.5


def accuracy(predicted, y):
    """Return the fraction of images whose 0/1 prediction equals the 0/1 label."""
    return float(np.count_nonzero(predicted == (y > 0.5))) / y.size


def train_torch(x, y, iterations, learning_rate):
    """Run the same loop with PyTorch tensors; return (w, b, {iteration: cost})."""
    import torch

    m = x.shape[1]
    w = torch.zeros((x.shape[0], 1), dtype=torch.float32)
    b = torch.zeros((), dtype=torch.float32)
    costs = {}
    with torch.no_grad():
        for i in range(iterations):
            a = torch.sigmoid(torch.mm(w.t(), x) + b)
            cost = -(y * torch.log(a) + (1 - y) * torch.log(1 - a)).sum() / m
            dz = a - y
            dw = torch.mm(x, dz.t()) / m
            db = dz.sum() / m
            w -= learning_rate * dw
            b -= learning_rate * db
            if i % 100 == 0:
                costs[i] = cost.item()
    return w, b, costs


def main():
    started = time.perf_counter()
    train_images, train_labels, test_images, test_labels = common.load_cat_data(args.data)
    dtype = np.float32 if args.variant.endswith("float32") else np.float64
    train_x = common.course_pixel_matrix(train_images).astype(dtype, copy=False)
    test_x = common.course_pixel_matrix(test_images).astype(dtype, copy=False)
    train_y = train_labels.reshape(1, -1).astype(dtype)
    test_y = test_labels.reshape(1, -1).astype(dtype)
    versions = {"numpy": np.__version__}

    if args.variant.startswith("torch"):
        import torch

        torch.set_num_threads(args.threads)
        versions["torch"] = torch.__version__
        tensors = [torch.from_numpy(np.ascontiguousarray(a))
                   for a in (train_x, train_y, test_x, test_y)]
        load_seconds = time.perf_counter() - started
        loop_started = time.perf_counter()
        w, b, costs = train_torch(tensors[0], tensors[1], args.iterations, args.learning_rate)
        train_seconds = time.perf_counter() - loop_started
        with torch.no_grad():
            train_accuracy = accuracy(predict_torch(w, b, tensors[0]).numpy(), train_y)
            test_accuracy = accuracy(predict_torch(w, b, tensors[2]).numpy(), test_y)
    else:
        load_seconds = time.perf_counter() - started
        loop_started = time.perf_counter()
        w, b, costs = train_numpy(train_x, train_y, dtype, args.iterations, args.learning_rate)
        train_seconds = time.perf_counter() - loop_started
        train_accuracy = accuracy(predict_numpy(w, b, train_x), train_y)
        test_accuracy = accuracy(predict_numpy(w, b, test_x), test_y)

    common.emit({
        "work": "logreg",
        "variant": args.variant,
        "dtype": np.dtype(dtype).name,
        "threads": args.threads,
        "iterations": args.iterations,
        "learning_rate": args.learning_rate,
        "load_seconds": load_seconds,
        "train_seconds": train_seconds,
        "costs": common.costs_at(costs, RECORDED_COSTS),
        "train_accuracy": train_accuracy,
        "test_accuracy": test_accuracy,
        "versions": versions,
        "blas": common.blas_description(),
    })


main()
