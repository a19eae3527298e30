#!/usr/bin/env python3
"""PyTorch side of `make bench-train`: one epoch of a network on MNIST's 60,000 training
images, CrossEntropyLoss, SGD lr 0.05 momentum 0.9, batch 128 with the last partial batch,
reshuffled every epoch, batched by index in the main process (no DataLoader). After a short
warm-up it times --epochs epochs and reports the fastest and the mean.

--model picks the network: mlp (the default), 784-512-512-512-10 Linear/ReLU; resnet20,
open_lth's cifar_resnet_20 of width --width (stages W, 2W, 4W of 3 blocks); vgg11,
open_lth's cifar_vgg_11 of width --width (W-M-2W-M-4W-4W-M-8W-8W-M-8W-8W), both with
--norm (LayerNorm over the channels, as issue 16's networks, or none) and built by
scripts/torch_models.py with modulo's parameter names. The convolutional networks take the
digits padded with 2 zeros on every side to 1×32×32, as modulo's dataset option pad = 2.
They start from PyTorch's default initialisation, or with --net from a network modulo wrote
(e.g. scripts/nninit's kaiming_normal, which modulo trains from), so that both sides start
from the same weights. The times do not depend on the weights; whether the network learns
does: at lr 0.05, from PyTorch's initialisation, neither learns in an epoch here.

The BLAS environment (OPENBLAS_CORETYPE, OPENBLAS_NUM_THREADS) must be set before Python
starts, so scripts/bench-train.sh sets it; --threads is torch.set_num_threads. PyTorch's
convolutions run on oneDNN, whatever OpenBLAS is set to.

Besides the times it reports the process's peak resident memory (getrusage ru_maxrss, which
counts the loaded libraries and the data as well as the training) and the arithmetic of an
epoch as modulo's nn.EpochFLOPs counts it: 2 flops per multiply-add of the convolutions and
linear layers (norms, pooling and activations are not counted), three times over (forward,
weight gradients, input gradients) but for the first layer's input gradients, which nothing
needs; and the GFLOP/s of the fastest epoch.

The last line is machine-readable:
RESULT best_s=... mean_s=... epochs_s=a,b,... torch_threads=N blas_core=NAME blas_threads=M test_acc=...
       peak_rss_mb=... gflop_epoch=... gflops=... model=NAME (one line)"""

import argparse
import ctypes
import os
import resource
import sys
import time

import numpy as np
import torch
from torch import nn

sys.dont_write_bytecode = True  # no __pycache__ in the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mnist_idx import load_split  # noqa: E402
from torch_models import arch_string, build, check_file, layer_macs, model_input  # noqa: E402


def openblas_info():
    """The OpenBLAS core name and thread count in this process (torch links OpenBLAS)."""
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_corename.restype = ctypes.c_char_p
        return lib.openblas_get_corename().decode(), lib.openblas_get_num_threads()
    except (OSError, AttributeError):
        return "unknown", 0


def conv_arch(model, width, layer_norm):
    """modulo's architecture (the JSON of "modulo.arch") of resnet20 or vgg11 of width
    width on 1×32×32 images."""
    w = width
    a = {"input": 1024, "hidden": [], "output": 10, "activation": "relu", "layer_norm": layer_norm,
         "channels": 1, "height": 32, "width": 32}
    if model == "resnet20":
        return dict(a, kind="resnet", bias=False, plan=[w, 2 * w, 4 * w], blocks=3)
    M = 0  # nn.PlanPool
    return dict(a, kind="vgg", bias=True, plan=[w, M, 2 * w, M, 4 * w, 4 * w, M, 8 * w, 8 * w, M, 8 * w, 8 * w])


def epoch_flops(model, arch, n):
    """An epoch's flops over n examples, counted as modulo's nn.EpochFLOPs counts an MLP's:
    forward, weight gradients and input gradients, 2 per multiply-add each, but no input
    gradients for the first layer."""
    macs = layer_macs(model, arch)
    return float(n) * (6 * sum(macs) - 2 * macs[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mnist", required=True, help="MNIST IDX directory")
    ap.add_argument("--model", default="mlp", choices=["mlp", "resnet20", "vgg11"])
    ap.add_argument("--width", type=int, default=16, help="resnet20, vgg11: the first convolution's channels (open_lth's W)")
    ap.add_argument("--norm", default="layernorm", choices=["layernorm", "none"], help="resnet20, vgg11: the norm")
    ap.add_argument("--net", help="resnet20, vgg11: start from this network (safetensors, as modulo writes it)")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: leave torch's default)")
    ap.add_argument("--epochs", type=int, default=3, help="timed epochs; the fastest and the mean are reported")
    ap.add_argument("--warmup-batches", type=int, help="untimed steps first (default 50 for mlp, 5 for the others)")
    ap.add_argument("--test-images", type=int, help="test images the accuracy is measured on (default all for mlp, 2000 for the others)")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--label", default="pytorch")
    args = ap.parse_args()
    conv = args.model != "mlp"
    warmup = args.warmup_batches if args.warmup_batches is not None else (5 if conv else 50)

    default_threads = torch.get_num_threads()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    if conv:
        arch = conv_arch(args.model, args.width, args.norm == "layernorm")
        model = build(arch)
        if args.net:
            model, theirs, problems = check_file(args.net)
            if problems or arch_string(theirs) != arch_string(arch):
                sys.exit("bench_train: %s holds %s, not --model %s --width %d --norm %s (%s)%s" % (
                    args.net, arch_string(theirs), args.model, args.width, args.norm, arch_string(arch),
                    "".join("; " + p for p in problems)))
    else:
        if args.net:
            sys.exit("bench_train: --net is for resnet20 and vgg11; the mlp starts from PyTorch's initialisation")
        arch = {"kind": "mlp", "input": 784, "hidden": [512, 512, 512], "output": 10, "activation": "relu",
                "layer_norm": False, "bias": True}
        model = nn.Sequential(
            nn.Linear(784, 512), nn.ReLU(),
            nn.Linear(512, 512), nn.ReLU(),
            nn.Linear(512, 512), nn.ReLU(),
            nn.Linear(512, 10),
        )
    xtr, ytr = load_split(args.mnist, "train")
    xte, yte = load_split(args.mnist, "test")
    nte = min(len(yte), args.test_images or (2000 if conv else len(yte)))
    X, Y = model_input(xtr, arch).contiguous(), torch.from_numpy(ytr)
    Xte, yte = model_input(xte[:nte], arch).contiguous(), yte[:nte]
    del xtr, xte  # the padded copies replace them
    n, B = X.shape[0], args.batch
    flops = epoch_flops(model, arch, n)

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

    epoch(warmup)
    times = []
    for e in range(args.epochs):
        t0 = time.perf_counter()
        loss = epoch()
        times.append(time.perf_counter() - t0)
        print("%s: epoch %d %.3f s (last batch loss %.4f)" % (args.label, e + 1, times[-1], loss), flush=True)

    with torch.no_grad():
        chunk = 500 if conv else nte
        pred = torch.cat([model(Xte[i:i + chunk]).argmax(1) for i in range(0, nte, chunk)])
        acc = (pred.numpy() == yte).mean()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    gflops = flops / min(times) / 1e9
    core, bthreads = openblas_info()
    name = arch_string(arch) if conv else "mlp 784-512-512-512-10 relu"
    print("%s: %s (%s), %d parameters; torch %s, torch threads %d (torch's own default here: %d), oneDNN %s, "
          "OpenBLAS core %s, %d OpenBLAS threads, OPENBLAS_CORETYPE=%s OPENBLAS_NUM_THREADS=%s; test accuracy after "
          "%d epochs + warm-up %.4f (%d images)" % (
              args.label, args.model, name, sum(p.numel() for p in model.parameters()), torch.__version__,
              torch.get_num_threads(), default_threads, "on" if torch.backends.mkldnn.is_available() else "off", core,
              bthreads, os.environ.get("OPENBLAS_CORETYPE", "(unset)"), os.environ.get("OPENBLAS_NUM_THREADS", "(unset)"),
              args.epochs, acc, nte))
    print("%s: fastest epoch %.3f s, %.2f GFLOP per epoch, %.1f GFLOP/s; peak RSS %.0f MB" % (
        args.label, min(times), flops / 1e9, gflops, rss_mb))
    print("RESULT best_s=%.4f mean_s=%.4f epochs_s=%s torch_threads=%d torch_default_threads=%d blas_core=%s blas_threads=%d test_acc=%.4f "
          "peak_rss_mb=%.0f gflop_epoch=%.3f gflops=%.2f model=%s" % (
              min(times), sum(times) / len(times), ",".join("%.4f" % t for t in times), torch.get_num_threads(), default_threads,
              core, bthreads, acc, rss_mb, flops / 1e9, gflops, args.model))


if __name__ == "__main__":
    main()
