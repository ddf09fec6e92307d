"""Helpers shared by the peer scripts: arguments, thread limits, data loading, the JSON line.

Every peer script prints exactly one JSON object on one line to stdout, and nothing
else there; warnings go to stderr. Import this module before numpy or torch, because
limit_threads() must set the BLAS thread variables before either library loads.
"""

import argparse
import contextlib
import gzip
import io
import json
import os
import platform
import resource
import struct
import sys

# The environment variables that select or tune OpenBLAS's kernels. The runner removes
# both from a peer's environment; the script records what it actually saw.
OPENBLAS_TUNING_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def parse_args(description, extra=None):
    """Parse the two arguments every peer script takes, plus the script's own options.

    extra, if given, is a function that adds options to the argparse parser.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("data", help="data directory (cat/non-cat HDF5 or Fashion-MNIST IDX)")
    parser.add_argument("threads", type=int, help="threads for BLAS, OpenMP and PyTorch")
    if extra is not None:
        extra(parser)
    args = parser.parse_args()
    if args.threads < 1:
        parser.error(f"threads must be at least 1, got {args.threads}")
    if not os.path.isdir(args.data):
        parser.error(f"data directory {args.data} does not exist")
    return args


def limit_threads(threads, blas_threads=None):
    """Cap OpenMP at `threads` and OpenBLAS at `blas_threads` (default: `threads`).

    Call it before importing numpy, scipy or torch, which read these variables on load.
    """
    os.environ["OMP_NUM_THREADS"] = str(threads)
    for name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(threads if blas_threads is None else blas_threads)


def load_cat_data(directory):
    """Load the course's cat/non-cat files as (train_x, train_y, test_x, test_y).

    The x arrays are the files' uint8 (N, 64, 64, 3) arrays; the y arrays are int64 (N,).
    """
    import h5py
    import numpy as np

    with h5py.File(os.path.join(directory, "train_catvnoncat.h5"), "r") as train:
        train_x = np.array(train["train_set_x"][:])
        train_y = np.array(train["train_set_y"][:])
    with h5py.File(os.path.join(directory, "test_catvnoncat.h5"), "r") as test:
        test_x = np.array(test["test_set_x"][:])
        test_y = np.array(test["test_set_y"][:])
    return train_x, train_y, test_x, test_y


def course_pixel_matrix(images):
    """Flatten (N, H, W, C) uint8 images to the course's (H*W*C, N) matrix of pixels / 255.

    This is the course's own expression: the transpose of a reshape, divided by 255, so
    numpy keeps the transposed (column-major) layout of the result.
    """
    return images.reshape(images.shape[0], -1).T / 255.


def read_idx(path):
    """Read one gzipped or raw IDX file into a uint8 numpy array of its stated shape."""
    import numpy as np

    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as stream:
        payload = stream.read()
    zero, kind, rank = struct.unpack(">HBB", payload[:4])
    if zero != 0 or kind != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes (header {payload[:4]!r})")
    shape = struct.unpack(f">{rank}I", payload[4:4 + 4 * rank])
    data = np.frombuffer(payload, dtype=np.uint8, offset=4 + 4 * rank)
    expected = int(np.prod(shape))
    if data.size != expected:
        raise ValueError(f"{path} is invalid: its header gives shape {shape} "
                         f"({expected} bytes) but {data.size} bytes follow")
    return data.reshape(shape)


def load_fashion_mnist(directory):
    """Load Fashion-MNIST as (train_x, train_y, test_x, test_y): uint8 (N, 28, 28) and (N,)."""

    def find(stem):
        for name in (stem + ".gz", stem):
            path = os.path.join(directory, name)
            if os.path.exists(path):
                return path
        raise FileNotFoundError(f"{stem}[.gz] not found in {directory}")

    return (read_idx(find("train-images-idx3-ubyte")), read_idx(find("train-labels-idx1-ubyte")),
            read_idx(find("t10k-images-idx3-ubyte")), read_idx(find("t10k-labels-idx1-ubyte")))


def blas_description():
    """Describe the BLAS that numpy loaded: threadpoolctl's report, else numpy.show_config()."""
    description = {"tuning_environment": {name: os.environ.get(name)
                                          for name in OPENBLAS_TUNING_VARIABLES}}
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        import numpy as np

        captured = io.StringIO()
        with contextlib.redirect_stdout(captured):
            np.show_config()
        description["numpy_show_config"] = captured.getvalue()
        return description
    description["libraries"] = [
        {key: entry.get(key) for key in
         ("internal_api", "version", "architecture", "threading_layer", "num_threads", "filepath")}
        for entry in threadpool_info()]
    return description


def peak_rss_bytes():
    """Return this process's peak resident set size in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def costs_at(costs, iterations):
    """Return {"iteration": cost} for those of `iterations` that the run recorded."""
    return {str(i): float(costs[i]) for i in iterations if i in costs}


def emit(record):
    """Print the run's record as one JSON line, adding Python's version and the peak RSS."""
    record.setdefault("versions", {})["python"] = platform.python_version()
    record["peak_rss_bytes"] = peak_rss_bytes()
    sys.stdout.write(json.dumps(record, sort_keys=True) + "\n")
    sys.stdout.flush()
