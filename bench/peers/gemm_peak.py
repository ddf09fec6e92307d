#!/usr/bin/python3
"""Measure dense matrix-multiply throughput: the machine's practical arithmetic peak.

Multiplies two SIZE x SIZE random matrices with numpy (OpenBLAS) in float32 and float64
and with PyTorch in float32, on THREADS threads. Each library gets one untimed product,
then the best of --repeats timed ones counts. A product costs 2 * SIZE^3 FLOP.

    gemm_peak.py THREADS [--size 2048] [--repeats 5]
"""

import argparse
import sys

import common

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("threads", type=int, help="threads for OpenBLAS and PyTorch")
parser.add_argument("--size", type=int, default=2048, help="matrix side (default: 2048)")
parser.add_argument("--repeats", type=int, default=5, help="timed products per library")
args = parser.parse_args()
if args.threads < 1 or args.size < 1 or args.repeats < 1:
    parser.error("threads, --size and --repeats must be at least 1")
common.limit_threads(args.threads)

import time  # noqa: E402

import numpy as np  # noqa: E402


def best_gflops(multiply):
    """Return the best GFLOP/s of `multiply` over the timed repeats, after one untimed run."""
    multiply()
    best = float("inf")
    for _ in range(args.repeats):
        started = time.perf_counter()
        multiply()
        best = min(best, time.perf_counter() - started)
    return 2.0 * args.size ** 3 / best / 1e9


def main():
    rng = np.random.default_rng(1)
    results = {}
    versions = {"numpy": np.__version__}
    for dtype in (np.float32, np.float64):
        a = rng.standard_normal((args.size, args.size)).astype(dtype)
        b = rng.standard_normal((args.size, args.size)).astype(dtype)
        out = np.empty_like(a)
        results[f"numpy-{np.dtype(dtype).name}"] = best_gflops(lambda: np.matmul(a, b, out=out))
    try:
        import torch
    except ImportError:
        print("gemm_peak.py: PyTorch is not installed; measured numpy only", file=sys.stderr)
    else:
        torch.set_num_threads(args.threads)
        versions["torch"] = torch.__version__
        a = torch.randn(args.size, args.size)
        b = torch.randn(args.size, args.size)
        out = torch.empty(args.size, args.size)
        results["torch-float32"] = best_gflops(lambda: torch.mm(a, b, out=out))

    common.emit({
        "work": "gemm",
        "size": args.size,
        "threads": args.threads,
        "repeats": args.repeats,
        "gflops": results,
        "versions": versions,
        "blas": common.blas_description(),
    })


main()
