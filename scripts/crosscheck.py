#!/usr/bin/env python3
"""PyTorch side of `make crosscheck`: load a network that modulo trained and exported
(safetensors) into the PyTorch module its architecture describes (scripts/torch_models.py:
modulo's MLP, open_lth's VGG or ResNet) with load_state_dict(strict=True), compute its
float32 logits on the MNIST test set, and compare them with modulo's logits (raw
little-endian float32, N×classes, from scripts/nnlogits) and its test accuracy.

The safetensors file is read with a small pure-Python reader (scripts/safetensors_np.py;
the safetensors package is not needed): the tensors keep their saved names and shapes,
which are the modules' state_dict names ("layers.i.weight", out×in as
torch.nn.Linear.weight; "blocks.3.shortcut.0.weight"; ...), and the metadata's
"modulo.arch" says which module to build. A convolutional network takes the test images as
N×C×H×W; 28×28 MNIST digits are padded with 2 zeros on every side for a 32×32 network, as
modulo's dataset option pad = 2 does. Convolutional networks are evaluated in chunks of
--chunk images (the activations of all 10,000 would take gigabytes), and their float64
reference, printed for context, on the first --f64-images only (PyTorch's float64
convolutions are 7× slower than its float32 ones: 90 s for ResNet-20's test set); an MLP
in one pass, on all of them.

Exits 1 if max |logit difference| exceeds --tol or the test accuracies differ at 4
decimals."""

import argparse
import json
import os
import sys

import numpy as np
import torch

sys.dont_write_bytecode = True  # no __pycache__ in the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mnist_idx import load_split  # noqa: E402
from safetensors_np import read_safetensors as read_np  # noqa: E402
from torch_models import arch_string, build, model_input  # noqa: E402


def read_safetensors(path):
    """Return ({name: tensor}, metadata) of a safetensors file, the tensors in file order."""
    arrays, metadata, _ = read_np(path)
    return {k: torch.from_numpy(v) for k, v in arrays.items()}, metadata


def logits(model, x, chunk):
    """model's outputs on x, chunk rows at a time (all at once if chunk is 0)."""
    if not chunk or chunk >= x.shape[0]:
        return model(x).numpy()
    return np.concatenate([model(x[i:i + chunk]).numpy() for i in range(0, x.shape[0], chunk)])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--net", required=True, help="network exported by modulo (safetensors)")
    ap.add_argument("--logits", required=True, help="modulo's test logits (raw little-endian float32)")
    ap.add_argument("--mnist", required=True, help="MNIST IDX directory")
    ap.add_argument("--modulo-acc", required=True, type=float, help="test_accuracy from `modulo show`")
    ap.add_argument("--nnlogits-acc", type=float, help="accuracy printed by scripts/nnlogits")
    ap.add_argument("--tol", type=float, default=1e-4, help="largest allowed |logit difference|")
    ap.add_argument("--identical", action="store_true",
                    help="require every logit bit-identical (an MLP, with modulo's OpenBLAS kernel, one thread)")
    ap.add_argument("--chunk", type=int, default=200, help="images per forward pass of a convolutional network")
    ap.add_argument("--f64-images", type=int, default=1000,
                    help="test images a convolutional network's float64 reference is computed on (0: all)")
    args = ap.parse_args()

    tensors, metadata = read_safetensors(args.net)
    if "modulo.arch" not in metadata:
        sys.exit("crosscheck: %s has no modulo.arch metadata" % args.net)
    arch = json.loads(metadata["modulo.arch"])
    model = build(arch)
    try:
        model.load_state_dict(tensors, strict=True)  # names and shapes must match exactly
    except RuntimeError as e:
        sys.exit("crosscheck: %s (%s) does not load into PyTorch's module: %s" % (args.net, arch_string(arch), e))
    model.eval()
    if arch["kind"] == "mlp":
        print("torch %s: loaded %s (%s) into %s" % (torch.__version__, args.net, ", ".join(
            "%s %s" % (n, "x".join(map(str, t.shape))) for n, t in tensors.items()), model))
    else:  # dozens of tensors and modules: name the architecture instead
        print("torch %s: loaded %s (%d tensors, %d parameters) into %s %s" % (
            torch.__version__, args.net, len(tensors), sum(t.numel() for t in tensors.values()),
            type(model).__name__, arch_string(arch)))

    x, y = load_split(args.mnist, "test")
    C = arch["output"]
    theirs = np.fromfile(args.logits, dtype="<f4")
    if theirs.size != x.shape[0] * C:
        sys.exit("crosscheck: %s holds %d floats, expected %d×%d" % (args.logits, theirs.size, x.shape[0], C))
    theirs = theirs.reshape(x.shape[0], C).astype(np.float32)

    try:
        inputs = model_input(x, arch)  # MLP: the rows; conv: N×C×H×W, padded if need be
    except ValueError as e:
        sys.exit("crosscheck: %s" % e)
    chunk, nref = 0, x.shape[0]
    if arch["kind"] != "mlp":
        chunk = args.chunk
        nref = min(nref, args.f64_images or nref)
    with torch.no_grad():
        ours = logits(model, inputs, chunk)
        ref = logits(model.double(), inputs[:nref].double(), chunk)  # float64 reference, for context
    diff = np.abs(ours.astype(np.float64) - theirs.astype(np.float64))
    maxdiff = float(diff.max())
    where = np.unravel_index(int(diff.argmax()), diff.shape)
    identical = int((ours == theirs).sum())
    acc = float((ours.argmax(1) == y).mean())  # first arg-max, as modulo counts
    acc64 = float((ref.argmax(1) == y[:nref]).mean())
    scale = float(np.abs(theirs).max())

    if arch["kind"] != "mlp":
        print("network input: %s images %s" % (arch_string(arch), "x".join(map(str, inputs.shape[1:]))))
    print("test set: %d images; logits %d×%d; largest |logit| %.3f" % (x.shape[0], x.shape[0], C, scale))
    at = " at row %d class %d" % (where[0], where[1]) if maxdiff > 0 else ""
    print("max |logit difference| PyTorch vs modulo: %.3g%s (tolerance %.0e); %d of %d logits bit-identical" % (
        maxdiff, at, args.tol, identical, diff.size))
    on = "" if nref == x.shape[0] else " on the first %d images" % nref
    print("float64 reference%s: max |modulo - f64| %.3g, max |PyTorch f32 - f64| %.3g (accuracy in f64 %.4f)" % (
        on, np.abs(theirs[:nref] - ref).max(), np.abs(ours[:nref] - ref).max(), acc64))
    line = "test accuracy: PyTorch %.4f, modulo (show test_accuracy) %.4f" % (acc, args.modulo_acc)
    if args.nnlogits_acc is not None:
        line += ", nnlogits %.4f" % args.nnlogits_acc
    print(line)

    failed = []
    if not maxdiff <= args.tol:
        failed.append("max |logit difference| %.3g exceeds %.0e" % (maxdiff, args.tol))
    if args.identical and identical != diff.size:
        failed.append("%d of %d logits differ, though both sides ran the same kernel" % (diff.size - identical, diff.size))
    accs = [round(acc, 4), round(args.modulo_acc, 4)] + ([round(args.nnlogits_acc, 4)] if args.nnlogits_acc is not None else [])
    if len(set(accs)) != 1:
        failed.append("test accuracies differ at 4 decimals: %s" % accs)
    if failed:
        print("crosscheck FAILED: " + "; ".join(failed))
        sys.exit(1)
    print("crosscheck OK: logits agree within %.0e and test accuracy %.4f matches" % (args.tol, acc))


if __name__ == "__main__":
    main()
