#!/usr/bin/python3
"""A small CNN on Fashion-MNIST in PyTorch: training and inference speed, test accuracy.

conv 3x3x32 (no padding), ReLU, max pool 2, conv 3x3x64, ReLU, max pool 2, flatten,
dense 128, ReLU, dense 10, on pixels / 255 as float32 (N, 1, 28, 28). Adam with rate
1e-3, batches of 64 drawn from a seeded shuffle, PyTorch's default initialization under
torch.manual_seed(SEED). Each epoch's training images/s counts the training steps only.
After training, two inference passes over the test images in batches of
--inference-batch: the first gives the test accuracy, the second, with everything
allocated, the inference images/s.

    cnn.py DATA THREADS [--epochs 3] [--seed 1] [--inference-batch 1000]
"""

import common

# Steps at the start of the first epoch left out of train_images_per_second_after_warmup.
WARMUP_STEPS = 50


def add_options(parser):
    parser.add_argument("--epochs", type=int, default=3, help="passes over the training set")
    parser.add_argument("--seed", type=int, default=1, help="seed of the weights and shuffle")
    parser.add_argument("--batch-size", type=int, default=64, help="training images per step")
    parser.add_argument("--inference-batch", type=int, default=1000,
                        help="test images per forward pass (default: 1000)")


args = common.parse_args(__doc__.splitlines()[0], add_options)
# PyTorch runs the convolutions on its own OpenMP threads, and OpenBLAS serves only the
# two small dense layers. OpenBLAS gets one thread because its threads keep spinning after
# each call and slow OpenMP's. Measured with PyTorch 1.13 on 2 threads of a 2-core AMD
# EPYC: 2,100-2,600 training images/s with two OpenBLAS threads, 3,400-3,900 with one.
common.limit_threads(args.threads, blas_threads=1)

import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402


def build_model():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10))


def to_tensor(images):
    """Convert uint8 (N, 28, 28) images to float32 (N, 1, 28, 28) pixels / 255."""
    return torch.from_numpy(images.astype(np.float32) / 255.).unsqueeze(1)


def train_epoch(model, optimizer, loss_function, x, y, generator, warmup):
    """Run one epoch; return (mean loss, seconds, images after the warm-up, their seconds)."""
    model.train()
    order = torch.randperm(len(x), generator=generator)
    total_loss = 0.0
    started = time.perf_counter()
    warmed_up_at = started if not warmup else None
    warmup_images = 0
    for step, first in enumerate(range(0, len(x), args.batch_size)):
        if warmup and step == WARMUP_STEPS:
            warmed_up_at = time.perf_counter()
            warmup_images = first
        batch = order[first:first + args.batch_size]
        optimizer.zero_grad()
        loss = loss_function(model(x[batch]), y[batch])
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(batch)
    seconds = time.perf_counter() - started
    return total_loss / len(x), seconds, len(x) - warmup_images, seconds - (warmed_up_at - started)


def predict_all(model, x):
    """Return the predicted classes of x and the seconds the forward passes took."""
    model.eval()
    predicted = []
    started = time.perf_counter()
    with torch.no_grad():
        for first in range(0, len(x), args.inference_batch):
            predicted.append(model(x[first:first + args.inference_batch]).argmax(dim=1))
    return torch.cat(predicted), time.perf_counter() - started


def main():
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    started = time.perf_counter()
    train_images, train_labels, test_images, test_labels = common.load_fashion_mnist(args.data)
    train_x, test_x = to_tensor(train_images), to_tensor(test_images)
    train_y = torch.from_numpy(train_labels.astype(np.int64))
    test_y = torch.from_numpy(test_labels.astype(np.int64))
    load_seconds = time.perf_counter() - started

    model = build_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_function = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(args.seed)
    epochs = []
    steady_images, steady_seconds = 0, 0.0
    for epoch in range(1, args.epochs + 1):
        loss, seconds, images, images_seconds = train_epoch(
            model, optimizer, loss_function, train_x, train_y, generator, warmup=(epoch == 1))
        steady_images += images
        steady_seconds += images_seconds
        epochs.append({"epoch": epoch, "loss": loss, "seconds": seconds,
                       "images_per_second": len(train_x) / seconds})
    train_seconds = sum(e["seconds"] for e in epochs)

    predicted, first_pass_seconds = predict_all(model, test_x)
    test_accuracy = float((predicted == test_y).float().sum().item()) / len(test_y)
    _, second_pass_seconds = predict_all(model, test_x)

    common.emit({
        "work": "cnn",
        "variant": "torch-float32",
        "dtype": "float32",
        "threads": args.threads,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "load_seconds": load_seconds,
        "train_seconds": train_seconds,
        "epoch_curves": epochs,
        "warmup_steps": WARMUP_STEPS,
        "train_images_per_second_after_warmup": steady_images / steady_seconds,
        "test_accuracy": test_accuracy,
        "inference_batch": args.inference_batch,
        "inference_images": len(test_x),
        "inference_first_pass_seconds": first_pass_seconds,
        "inference_seconds": second_pass_seconds,
        "inference_images_per_second": len(test_x) / second_pass_seconds,
        "versions": {"numpy": np.__version__, "torch": torch.__version__},
        "blas": common.blas_description(),
    })


main()
