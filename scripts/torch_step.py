#!/usr/bin/env python3
"""PyTorch's SGD step for `make crosscheck`: load a network modulo wrote (safetensors) into
the module scripts/torch_models.py builds for it (load_state_dict(strict=True)), take
--steps steps of torch.optim.SGD on one batch (mean cross-entropy over the batch, lr,
momentum, weight decay, Nesterov as given; steps after the first use the momentum buffer),
and write the updated network as safetensors: the same names, order and metadata, laid out
as modulo writes files. With --compare, it also reads modulo's network after the same
steps and checks that every parameter agrees within --tol, exiting 1 if one does not.

The batch is two raw files: --images, float32 little-endian, one row per example of the
network's input size, or of MNIST's 28×28 for a 32×32 convolutional network (padded with 2
zeros on every side, as modulo's dataset option pad = 2 does); --labels, one uint8 class
per example. The example count is the labels file's size.

Usage: python3 scripts/torch_step.py --net NET --images X.f32 --labels Y.u8 --lr 0.05
         [--momentum 0.9] [--weight-decay 0] [--nesterov] [--steps 1] --out AFTER.safetensors
         [--grads-out GRADS.safetensors] [--compare MODULO_AFTER.safetensors --tol 1e-5]"""

import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no __pycache__ in the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_np import read_safetensors, write_safetensors  # noqa: E402
from torch_models import arch_string, build, model_input  # noqa: E402


def read_batch(images, labels, arch):
    """The batch's model input and int64 labels, from the raw files."""
    y = np.fromfile(labels, dtype=np.uint8)
    x = np.fromfile(images, dtype="<f4")
    if y.size == 0 or x.size % y.size:
        raise ValueError("%s holds %d floats, not a whole row for each of the %d labels in %s" % (
            images, x.size, y.size, labels))
    if int(y.max()) >= arch["output"]:
        raise ValueError("%s has label %d but %s has %d classes" % (labels, int(y.max()), arch_string(arch), arch["output"]))
    x = x.astype(np.float32).reshape(y.size, -1)
    return model_input(x, arch), torch.from_numpy(y.astype(np.int64))


def step(model, x, y, lr, momentum, weight_decay, nesterov, steps):
    """Take steps SGD steps on (x, y); return the first step's loss and the last step's
    gradients {name: array}."""
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay,
                          nesterov=nesterov)
    first = None
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)  # mean over the batch, as modulo's loss
        loss.backward()
        opt.step()
        if first is None:
            first = loss.item()
    names = {id(p): n for n, p in model.named_parameters()}
    grads = {names[id(p)]: p.grad.detach().numpy().copy() for p in model.parameters()}
    return first, grads


def compare(ours, path, tol):
    """Print how far the network in path is from ours {name: array}, tensor by tensor, and
    return the problems (empty if every value is within tol)."""
    theirs, _, _ = read_safetensors(path)
    problems = []
    if list(theirs) != list(ours):
        return ["%s holds tensors %s, PyTorch's network %s" % (path, list(theirs), list(ours))]
    worst = (0.0, "")
    for name, a in ours.items():
        b = theirs[name]
        if b.shape != a.shape:
            problems.append("%s: %s in %s, %s in PyTorch's" % (name, list(b.shape), path, list(a.shape)))
            continue
        d = float(np.abs(a.astype(np.float64) - b.astype(np.float64)).max()) if a.size else 0.0
        if not d <= tol:
            problems.append("%s: max |difference| %.3g exceeds %.0e" % (name, d, tol))
        if d >= worst[0]:
            worst = (d, name)
    print("modulo vs PyTorch after the step: max |difference| %.3g (%s), tolerance %.0e" % (worst[0], worst[1], tol))
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--net", required=True, help="network before the step (safetensors, as modulo writes it)")
    ap.add_argument("--images", required=True, help="the batch's inputs, raw little-endian float32 rows")
    ap.add_argument("--labels", required=True, help="the batch's labels, one uint8 each")
    ap.add_argument("--lr", required=True, type=float)
    ap.add_argument("--momentum", type=float, default=0.0)
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--nesterov", action="store_true")
    ap.add_argument("--steps", type=int, default=1, help="steps on the same batch (the second uses the momentum buffer)")
    ap.add_argument("--out", required=True, help="network after the steps (safetensors)")
    ap.add_argument("--grads-out", help="also write the last step's gradients (safetensors, the parameters' names)")
    ap.add_argument("--compare", help="modulo's network after the same steps, to check against PyTorch's")
    ap.add_argument("--tol", type=float, default=1e-5, help="largest allowed |parameter difference| for --compare")
    args = ap.parse_args()
    if args.steps < 1:
        sys.exit("torch_step: --steps must be at least 1, got %d" % args.steps)

    arrays, metadata, _ = read_safetensors(args.net)
    if "modulo.arch" not in metadata:
        sys.exit("torch_step: %s has no modulo.arch metadata; write it with modulo export or scripts/nninit" % args.net)
    arch = json.loads(metadata["modulo.arch"])
    model = build(arch)
    try:
        model.load_state_dict({k: torch.from_numpy(v) for k, v in arrays.items()}, strict=True)
        x, y = read_batch(args.images, args.labels, arch)
    except (RuntimeError, ValueError) as e:
        sys.exit("torch_step: %s" % e)
    model.train()
    loss, grads = step(model, x, y, args.lr, args.momentum, args.weight_decay, args.nesterov, args.steps)

    state = model.state_dict()
    after = {k: state[k].detach().numpy() for k in arrays}  # the file's order
    write_safetensors(args.out, after, metadata)
    if args.grads_out:
        write_safetensors(args.grads_out, {k: grads[k] for k in arrays}, metadata)
    moved = max(float(np.abs(after[k].astype(np.float64) - arrays[k]).max()) for k in arrays)
    print("torch %s: %s, batch of %d %s, SGD lr %g momentum %g weight_decay %g%s, %d step%s: loss %.6f before, "
          "largest |update| %.3g -> %s" % (
              torch.__version__, arch_string(arch), y.numel(), "x".join(map(str, x.shape[1:])), args.lr, args.momentum,
              args.weight_decay, " nesterov" if args.nesterov else "", args.steps, "" if args.steps == 1 else "s",
              loss, moved, args.out))
    if args.compare:
        problems = compare(after, args.compare, args.tol)
        if problems:
            print("step crosscheck FAILED:\n  " + "\n  ".join(problems))
            sys.exit(1)
        print("step crosscheck OK: every parameter within %.0e" % args.tol)


if __name__ == "__main__":
    main()
