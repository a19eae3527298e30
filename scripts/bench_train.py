#!/usr/bin/env python3
"""PyTorch side of `make bench-train`: one epoch of 784-512-512-512-10 (Linear/ReLU) on
MNIST's 60,000 training images, CrossEntropyLoss, SGD lr 0.05 momentum 0.9, batch 128 with
the last partial batch, reshuffled every epoch, batched by index in the main process (no
DataLoader). After a short warm-up it times --epochs epochs and reports the fastest and the mean.

The BLAS environment (OPENBLAS_CORETYPE, OPENBLAS_NUM_THREADS) must be set before Python
starts, so scripts/bench-train.sh sets it; --threads is torch.set_num_threads.

The last line is machine-readable:
RESULT best_s=... mean_s=... epochs_s=a,b,... torch_threads=N blas_core=NAME blas_threads=M test_acc=..."""

import argparse
import ctypes
import os
import sys
import time

import numpy as np
import torch
from torch import nn

sys.dont_write_bytecode = True  # no __pycache__ in the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mnist_idx import load_split  # noqa: E402


def openblas_info():
    """The OpenBLAS core name and thread count in this process (torch links OpenBLAS)."""
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_corename.restype = ctypes.c_char_p
        return lib.openblas_get_corename().decode(), lib.openblas_get_num_threads()
    except (OSError, AttributeError):
        return "unknown", 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mnist", required=True, help="MNIST IDX directory")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: leave torch's default)")
    ap.add_argument("--epochs", type=int, default=3, help="timed epochs; the fastest and the mean are reported")
    ap.add_argument("--warmup-batches", type=int, default=50)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--label", default="pytorch")
    args = ap.parse_args()

    default_threads = torch.get_num_threads()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    xtr, ytr = load_split(args.mnist, "train")
    xte, yte = load_split(args.mnist, "test")
    X, Y = torch.from_numpy(xtr), torch.from_numpy(ytr)
    n, B = X.shape[0], args.batch

    model = nn.Sequential(
        nn.Linear(784, 512), nn.ReLU(),
        nn.Linear(512, 512), nn.ReLU(),
        nn.Linear(512, 512), nn.ReLU(),
        nn.Linear(512, 10),
    )
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    gen = torch.Generator().manual_seed(args.seed)

    def epoch(steps=None):
        perm = torch.randperm(n, generator=gen)
        total = (n + B - 1) // B if steps is None else steps
        loss = None
        for s in range(total):
            idx = perm[s * B:(s + 1) * B]
            xb, yb = X.index_select(0, idx), Y.index_select(0, idx)
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
        return loss.item()

    epoch(args.warmup_batches)
    times = []
    for e in range(args.epochs):
        t0 = time.perf_counter()
        loss = epoch()
        times.append(time.perf_counter() - t0)
        print("%s: epoch %d %.3f s (last batch loss %.4f)" % (args.label, e + 1, times[-1], loss), flush=True)

    with torch.no_grad():
        acc = (model(torch.from_numpy(xte)).argmax(1).numpy() == yte).mean()
    core, bthreads = openblas_info()
    print("%s: torch %s, torch threads %d (torch's own default here: %d), OpenBLAS core %s, %d OpenBLAS threads, "
          "OPENBLAS_CORETYPE=%s OPENBLAS_NUM_THREADS=%s; test accuracy after %d epochs + warm-up %.4f" % (
              args.label, torch.__version__, torch.get_num_threads(), default_threads, core, bthreads,
              os.environ.get("OPENBLAS_CORETYPE", "(unset)"), os.environ.get("OPENBLAS_NUM_THREADS", "(unset)"),
              args.epochs, acc))
    print("RESULT best_s=%.4f mean_s=%.4f epochs_s=%s torch_threads=%d torch_default_threads=%d blas_core=%s blas_threads=%d test_acc=%.4f" % (
        min(times), sum(times) / len(times), ",".join("%.4f" % t for t in times), torch.get_num_threads(), default_threads, core, bthreads, acc))


if __name__ == "__main__":
    main()
