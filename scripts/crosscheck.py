#!/usr/bin/env python3
"""PyTorch side of `make crosscheck`: load a network that modulo trained and exported
(safetensors) into torch.nn.Sequential of Linear/ReLU with load_state_dict(strict=True),
compute its float32 logits on the MNIST test set, and compare them with modulo's logits
(raw little-endian float32, N×classes, from scripts/nnlogits) and its test accuracy.

The safetensors file is read with a small pure-Python reader (the safetensors package is
not needed): 8-byte little-endian header length, a JSON header of name -> dtype, shape and
data_offsets (plus "__metadata__", where modulo stores the architecture as "modulo.arch"),
then the raw little-endian tensor data. Tensors are used under their saved names and
shapes: "layers.i.weight" (out×in, as torch.nn.Linear.weight) and "layers.i.bias".

Exits 1 if max |logit difference| exceeds --tol or the test accuracies differ at 4
decimals."""

import argparse
import json
import os
import re
import sys

import numpy as np
import torch
from torch import nn

sys.dont_write_bytecode = True  # no __pycache__ in the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mnist_idx import load_split  # noqa: E402
from safetensors_np import read_safetensors as read_np  # noqa: E402

def read_safetensors(path):
    """Return ({name: tensor}, metadata) of a safetensors file."""
    arrays, metadata, _ = read_np(path)
    return {k: torch.from_numpy(v) for k, v in arrays.items()}, metadata


def build(arch):
    """torch.nn.Sequential for modulo's arch: Linear, act, ..., Linear."""
    if arch.get("kind") != "mlp" or arch.get("layer_norm"):
        raise ValueError("only MLPs without LayerNorm are supported here, not %s" % arch)
    acts = {"relu": nn.ReLU, "tanh": nn.Tanh}
    if arch["activation"] not in acts:
        raise ValueError("activation %s is not supported here" % arch["activation"])
    widths = [arch["input"]] + list(arch.get("hidden") or []) + [arch["output"]]
    mods = []
    for i in range(len(widths) - 1):
        mods.append(nn.Linear(widths[i], widths[i + 1], bias=bool(arch["bias"])))
        if i < len(widths) - 2:
            mods.append(acts[arch["activation"]]())
    return nn.Sequential(*mods)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--net", required=True, help="network exported by modulo (safetensors)")
    ap.add_argument("--logits", required=True, help="modulo's test logits (raw little-endian float32)")
    ap.add_argument("--mnist", required=True, help="MNIST IDX directory")
    ap.add_argument("--modulo-acc", required=True, type=float, help="test_accuracy from `modulo show`")
    ap.add_argument("--nnlogits-acc", type=float, help="accuracy printed by scripts/nnlogits")
    ap.add_argument("--tol", type=float, default=1e-4, help="largest allowed |logit difference|")
    args = ap.parse_args()

    tensors, metadata = read_safetensors(args.net)
    if "modulo.arch" not in metadata:
        sys.exit("crosscheck: %s has no modulo.arch metadata" % args.net)
    arch = json.loads(metadata["modulo.arch"])
    model = build(arch)

    # layers.i.{weight,bias} -> the i-th Linear of the Sequential (module index 2i).
    linear_index = [j for j, m in enumerate(model) if isinstance(m, nn.Linear)]
    state = {}
    for name, t in tensors.items():
        m = re.fullmatch(r"layers\.(\d+)\.(weight|bias)", name)
        if not m or int(m.group(1)) >= len(linear_index):
            sys.exit("crosscheck: unexpected tensor %s %s in %s" % (name, list(t.shape), args.net))
        state["%d.%s" % (linear_index[int(m.group(1))], m.group(2))] = t
    model.load_state_dict(state, strict=True)  # also checks every shape
    model.eval()
    print("torch %s: loaded %s (%s) into %s" % (torch.__version__, args.net, ", ".join(
        "%s %s" % (n, "x".join(map(str, t.shape))) for n, t in tensors.items()), model))

    x, y = load_split(args.mnist, "test")
    C = arch["output"]
    theirs = np.fromfile(args.logits, dtype="<f4")
    if theirs.size != x.shape[0] * C:
        sys.exit("crosscheck: %s holds %d floats, expected %d×%d" % (args.logits, theirs.size, x.shape[0], C))
    theirs = theirs.reshape(x.shape[0], C).astype(np.float32)

    with torch.no_grad():
        ours = model(torch.from_numpy(x)).numpy()
        ref = model.double()(torch.from_numpy(x).double()).numpy()  # float64 reference, for context
    diff = np.abs(ours.astype(np.float64) - theirs.astype(np.float64))
    maxdiff = float(diff.max())
    where = np.unravel_index(int(diff.argmax()), diff.shape)
    identical = int((ours == theirs).sum())
    acc = float((ours.argmax(1) == y).mean())  # first arg-max, as modulo counts
    acc64 = float((ref.argmax(1) == y).mean())
    scale = float(np.abs(theirs).max())

    print("test set: %d images; logits %d×%d; largest |logit| %.3f" % (x.shape[0], x.shape[0], C, scale))
    at = " at row %d class %d" % (where[0], where[1]) if maxdiff > 0 else ""
    print("max |logit difference| PyTorch vs modulo: %.3g%s (tolerance %.0e); %d of %d logits bit-identical" % (
        maxdiff, at, args.tol, identical, diff.size))
    print("float64 reference: max |modulo - f64| %.3g, max |PyTorch f32 - f64| %.3g (accuracy in f64 %.4f)" % (
        np.abs(theirs - ref).max(), np.abs(ours - ref).max(), acc64))
    line = "test accuracy: PyTorch %.4f, modulo (show test_accuracy) %.4f" % (acc, args.modulo_acc)
    if args.nnlogits_acc is not None:
        line += ", nnlogits %.4f" % args.nnlogits_acc
    print(line)

    failed = []
    if not maxdiff <= args.tol:
        failed.append("max |logit difference| %.3g exceeds %.0e" % (maxdiff, args.tol))
    accs = [round(acc, 4), round(args.modulo_acc, 4)] + ([round(args.nnlogits_acc, 4)] if args.nnlogits_acc is not None else [])
    if len(set(accs)) != 1:
        failed.append("test accuracies differ at 4 decimals: %s" % accs)
    if failed:
        print("crosscheck FAILED: " + "; ".join(failed))
        sys.exit(1)
    print("crosscheck OK: logits agree within %.0e and test accuracy %.4f matches" % (args.tol, acc))


if __name__ == "__main__":
    main()
