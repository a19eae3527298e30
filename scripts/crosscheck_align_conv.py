#!/usr/bin/env python3
"""numpy, scipy and PyTorch side of `make crosscheck-align-conv`: recompute, independently of
modulo's Go code, what `match` (weight matching) and `interpolate` reported for two
convolutional networks A and B (open_lth's ResNet or VGG, with or without LayerNorm), and
exit 1 if a check (a to e, g) fails:

  a. objective: sum over all parameters of <A, P(B)>, recomputed exactly in float64 from
     the exported networks and permutation, equals modulo's `objective` (relative 1e-6);
  b. P(B) applied in numpy equals modulo's `aligned` network bit for bit;
  c. modulo's permutation is a fixed point of Git Re-Basin's coordinate descent: with the
     other groups at modulo's permutation, re-solving any one group (float64 cost,
     scipy.optimize.linear_sum_assignment) gains at most 1e-9 of the objective, and so does
     the whole descent started from it;
  d. Git Re-Basin's weight matching run here from the identity, with several random group
     orders, reaches objectives that are reported beside modulo's, with the fraction of
     units each run places where modulo's permutation does; modulo's objective must be no
     worse than the best of them by more than --wm-tol (relative);
  e. PyTorch recomputes the interpolation curves A -> B and A -> P(B) at a = i/(R-1) and
     the loss and error barriers on both splits match modulo's within 1e-3;
  f. (the science question, reported, not checked) PyTorch's barriers of A -> Q(B) with Q
     the best permutation Python's own weight matching found, beside modulo's, and with
     the objective and the distance |A - Q(B)| for each (with --every-run, the test
     barriers of every one of Python's runs too);
  g. the spec built here is a symmetry: in PyTorch, B, modulo's P(B) and Python's Q(B)
     give the same logits on 500 test images (within 1e-4 of the largest logit).

The permutation spec (which tensor axes each group moves) is built here from the tensor
names and shapes alone, following Git Re-Basin's resnet20_permutation_spec and
vgg16_permutation_spec (samuela/git-re-basin, src/weight_matching.py), translated to
open_lth's PyTorch names and layouts (a convolution's weight is out x in x kh x kw, a linear
one out x in):

  ResNet: the stem "conv" writes the residual stream of stage 0, group S0. Block j reads the
    current stream S with "blocks.j.conv1" (in axis S) and writes its own inner group Ij
    (conv1's out axis, bn1, conv2's in axis). Its "conv2" and "bn2" write the stream it
    adds to: S itself, unless the block has a shortcut ("blocks.j.shortcut.0", a 1x1
    convolution, and its norm "shortcut.1"), which opens a new stream S' (the out axis of
    conv2, bn2 and shortcut.0, the in axis of shortcut.0 being S). "fc" reads the last
    stream.
  VGG: "layers.i.conv" writes group Li (out axis, bias, the norm "layers.i.bn") and the next
    convolution (or "fc") reads it.
  A LayerNorm's weight and bias "X.bnK.layernorm.*" (or "bn", "shortcut.1") follow the
  output group of the convolution it normalises ("X.convK", "conv", "shortcut.0").

modulo's permutation file holds one int64 vector "perm.l" per group (group[i] is the index
in B of the unit placed at position i), in the order of its spec, which lists groups as they
first appear in the state dict (its tensors in order, each tensor's axes in order). That is
the one convention taken from modulo; the groups themselves are derived here, and check b
(bit-for-bit equality of P(B) with modulo's aligned network) would fail if the two specs
disagreed anywhere.

modulo's numbers are parsed from the output of `modulo show` (match, and the interpolate
stages before and after alignment). Data: the first --train-examples training images and the
first --test-examples test images of MNIST, padded with --pad zeros on every side."""

import argparse
import json
import math
import os
import re
import sys
import time

import numpy as np
from scipy.optimize import linear_sum_assignment

sys.dont_write_bytecode = True  # no __pycache__ in the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crosscheck_align import Table, barrier, exact_inner, parse_show  # noqa: E402
from mnist_idx import load_split  # noqa: E402
from safetensors_np import read_safetensors  # noqa: E402


# ---------------------------------------------------------------- the permutation spec


class Spec:
    """axes[name] = one group name (or None) per axis of the tensor; sizes[group] = units;
    order = the groups in order of first appearance (tensors in state-dict order, each
    tensor's axes in order)."""

    def __init__(self, shapes):
        self.shapes = shapes
        self.axes = {}

    def set(self, name, *groups):
        if name not in self.shapes:
            raise ValueError("the network has no tensor %s" % name)
        if name in self.axes:
            raise ValueError("tensor %s given two roles" % name)
        groups = list(groups) + [None] * (len(self.shapes[name]) - len(groups))
        if len(groups) != len(self.shapes[name]):
            raise ValueError("%s has shape %s, spec gives %d axes" % (name, self.shapes[name], len(groups)))
        self.axes[name] = tuple(groups)

    def finish(self):
        missing = [n for n in self.shapes if n not in self.axes]
        if missing:
            raise ValueError("the spec leaves tensors %s out" % missing)
        self.sizes, self.order = {}, []
        for name in self.shapes:
            for ax, g in enumerate(self.axes[name]):
                if g is None:
                    continue
                n = self.shapes[name][ax]
                if g not in self.sizes:
                    self.sizes[g] = n
                    self.order.append(g)
                elif self.sizes[g] != n:
                    raise ValueError("group %s has %d units, but axis %d of %s has %d" % (g, self.sizes[g], ax, name, n))
        self.perm_to_axes = {g: [] for g in self.order}
        for name in self.shapes:
            for ax, g in enumerate(self.axes[name]):
                if g is not None:
                    self.perm_to_axes[g].append((name, ax))
        return self


def norm_params(spec, shapes, prefix, group):
    """The affine LayerNorm after a convolution, if the network has one: open_lth's fork
    writes it as prefix + ".layernorm.weight" and ".bias"."""
    for what in ("weight", "bias"):
        name = "%s.layernorm.%s" % (prefix, what)
        if name in shapes:
            spec.set(name, group)


def resnet_spec(shapes):
    """Git Re-Basin's resnet20_permutation_spec for open_lth's cifar_resnet, any depth."""
    s = Spec(shapes)
    stream, stage = "S0", 0
    s.set("conv.weight", stream)
    norm_params(s, shapes, "bn", stream)
    blocks = sorted({int(m.group(1)) for n in shapes for m in [re.match(r"blocks\.(\d+)\.", n)] if m})
    if blocks != list(range(len(blocks))):
        raise ValueError("blocks are numbered %s, not 0..%d" % (blocks, len(blocks) - 1))
    for j in blocks:
        p = "blocks.%d." % j
        inner = "I%d" % j
        out = stream
        if p + "shortcut.0.weight" in shapes:  # easyblock vs shortcutblock
            stage += 1
            out = "S%d" % stage
            s.set(p + "shortcut.0.weight", out, stream)
            norm_params(s, shapes, p + "shortcut.1", out)
        s.set(p + "conv1.weight", inner, stream)
        norm_params(s, shapes, p + "bn1", inner)
        s.set(p + "conv2.weight", out, inner)
        norm_params(s, shapes, p + "bn2", out)
        stream = out
    s.set("fc.weight", None, stream)
    s.set("fc.bias", None)
    return s.finish()


def vgg_spec(shapes):
    """Git Re-Basin's vgg16_permutation_spec for open_lth's cifar_vgg (any plan; its single
    linear layer "fc" in place of the JAX model's three dense layers)."""
    s = Spec(shapes)
    layers = sorted({int(m.group(1)) for n in shapes for m in [re.match(r"layers\.(\d+)\.conv\.weight$", n)] if m})
    prev = None
    for i in layers:
        g = "L%d" % i
        s.set("layers.%d.conv.weight" % i, g, prev)
        if "layers.%d.conv.bias" % i in shapes:
            s.set("layers.%d.conv.bias" % i, g)
        norm_params(s, shapes, "layers.%d.bn" % i, g)
        prev = g
    s.set("fc.weight", None, prev)
    s.set("fc.bias", None)
    return s.finish()


def build_spec(kind, shapes):
    if kind == "resnet":
        return resnet_spec(shapes)
    if kind == "vgg":
        return vgg_spec(shapes)
    raise ValueError("kind %r: this script checks resnet and vgg (crosscheck_align.py checks MLPs)" % kind)


# ---------------------------------------------------------------- files


def read_network(path):
    t, meta, dtypes = read_safetensors(path)
    if "modulo.arch" not in meta:
        raise ValueError("%s has no modulo.arch metadata" % path)
    bad = [n for n, d in dtypes.items() if d != "F32"]
    if bad:
        raise ValueError("%s: tensors %s are not F32" % (path, bad))
    return t, json.loads(meta["modulo.arch"])


def read_permutation(path, arch, spec):
    """{group: int64 vector} from modulo's perm.l tensors, perm.l being spec.order[l]."""
    t, meta, dtypes = read_safetensors(path)
    parch = json.loads(meta.get("modulo.arch", "null"))
    if parch != arch:
        raise ValueError("%s is a permutation of %s, not of %s" % (path, parch, arch))
    names = ["perm.%d" % l for l in range(len(spec.order))]
    if sorted(t) != sorted(names):
        raise ValueError("%s holds %s; the spec built here has %d groups %s" % (path, sorted(t), len(names), spec.order))
    perm = {}
    for l, g in enumerate(spec.order):
        v, n = t["perm.%d" % l], spec.sizes[g]
        if dtypes["perm.%d" % l] != "I64" or v.shape != (n,):
            raise ValueError("%s: perm.%d is %s %s, but group %s here has %d units" % (path, l, dtypes["perm.%d" % l], list(v.shape), g, n))
        if not np.array_equal(np.sort(v), np.arange(n)):
            raise ValueError("%s: perm.%d is not a permutation of 0..%d" % (path, l, n - 1))
        perm[g] = v.astype(np.int64)
    return perm


# ---------------------------------------------------------------- permutations


def permuted(spec, perm, name, x, except_axis=None):
    """Git Re-Basin's get_permuted_param: x with every axis but except_axis taken by its
    group (np.take, so position i of the result holds unit perm[g][i])."""
    for ax, g in enumerate(spec.axes[name]):
        if g is not None and ax != except_axis:
            x = np.take(x, perm[g], axis=ax)
    return x


def apply_perm(spec, perm, params):
    return {k: np.ascontiguousarray(permuted(spec, perm, k, v)) for k, v in params.items()}


def identity(spec):
    return {g: np.arange(spec.sizes[g], dtype=np.int64) for g in spec.order}


def agreement(spec, p, q):
    """Fraction of units, over all groups, that p and q put at the same position."""
    same = sum(int(np.sum(p[g] == q[g])) for g in spec.order)
    return same / sum(spec.sizes.values())


def distance(a, b):
    return math.sqrt(math.fsum(math.fsum(((a[k].astype(np.float64) - b[k].astype(np.float64)) ** 2).ravel()) for k in a))


class WeightMatcher:
    """Git Re-Basin's weight_matching in numpy float64 + scipy, on any spec."""

    def __init__(self, spec, a, b):
        self.spec = spec
        f = lambda p: {k: v.astype(np.float64) for k, v in p.items()}  # noqa: E731
        self.a, self.b = f(a), f(b)

    def cost(self, perm, g):
        n = self.spec.sizes[g]
        c = np.zeros((n, n))
        for name, ax in self.spec.perm_to_axes[g]:
            wa = np.moveaxis(self.a[name], ax, 0).reshape(n, -1)
            wb = np.moveaxis(permuted(self.spec, perm, name, self.b[name], except_axis=ax), ax, 0).reshape(n, -1)
            c += wa @ wb.T
        return c

    def resolve(self, perm, g):
        """(new group, old value, new value) of solving group g exactly."""
        c = self.cost(perm, g)
        rows, cols = linear_sum_assignment(c, maximize=True)
        assert np.array_equal(rows, np.arange(len(rows)))
        idx = np.arange(c.shape[0])
        return cols.astype(np.int64), float(c[idx, perm[g]].sum()), float(c[idx, cols].sum())

    def run(self, init, rng, max_sweeps=100):
        """The published descent from init: each sweep visits the groups in a random order
        and adopts each group's solution; it stops after a sweep in which no group gained
        more than 1e-12. Returns (perm, sweeps)."""
        perm = {g: v.copy() for g, v in init.items()}
        names = list(self.spec.order)
        sweeps = 0
        for _ in range(max_sweeps):
            sweeps += 1
            progress = False
            for i in rng.permutation(len(names)):
                g = names[i]
                new, old_v, new_v = self.resolve(perm, g)
                progress = progress or new_v > old_v + 1e-12
                perm[g] = new
            if not progress:
                break
        return perm, sweeps


# ---------------------------------------------------------------- PyTorch curves


def torch_curves(torch, build, model_input, a, b, arch, splits, points, chunk=500):
    """Loss and error at alpha = i/(points-1) on each split, as modulo measures them: the
    weights are float32((1-alpha)*a + alpha*b) computed in float64 (nn.Combine), the model
    runs in float32, the cross-entropy is summed in float64, and a prediction is the first
    largest logit."""
    from torch.nn import functional as F

    model = build(arch).eval()
    a64 = {k: v.astype(np.float64) for k, v in a.items()}
    b64 = {k: v.astype(np.float64) for k, v in b.items()}
    alphas = [i / (points - 1) for i in range(points)]
    data = {s: (model_input(torch.from_numpy(x), arch), torch.from_numpy(y), y) for s, (x, y) in splits.items()}
    curve = {(m, s): [] for m in ("loss", "error") for s in splits}
    with torch.no_grad():
        for al in alphas:
            state = {k: torch.from_numpy(((1 - al) * a64[k] + al * b64[k]).astype(np.float32)) for k in a}
            model.load_state_dict(state, strict=True)
            for s, (x, y, ynp) in data.items():
                logits = torch.cat([model(x[i:i + chunk]) for i in range(0, len(ynp), chunk)])
                loss = F.cross_entropy(logits.double(), y, reduction="sum").item() / len(ynp)
                wrong = int(np.sum(logits.numpy().argmax(1) != ynp))
                curve[("loss", s)].append(loss)
                curve[("error", s)].append(wrong / len(ynp))
    return alphas, curve


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--a", required=True, help="reference network A (safetensors)")
    ap.add_argument("--b", required=True, help="target network B (safetensors)")
    ap.add_argument("--perm", required=True, help="match's permutation (safetensors)")
    ap.add_argument("--aligned", required=True, help="match's aligned network (safetensors)")
    ap.add_argument("--show-match", required=True, help="output of `modulo show` of the match stage")
    ap.add_argument("--show-before", required=True, help="output of `modulo show` of interpolate A-B")
    ap.add_argument("--show-after", required=True, help="output of `modulo show` of interpolate A-P(B)")
    ap.add_argument("--mnist", required=True, help="MNIST IDX directory")
    ap.add_argument("--label", default="", help="name printed in the table")
    ap.add_argument("--orders", type=int, default=8, help="random group orders for check d")
    ap.add_argument("--points", type=int, help="points on each line (default: modulo's, from --show-before)")
    ap.add_argument("--train-examples", type=int, default=2000)
    ap.add_argument("--test-examples", type=int, default=2000)
    ap.add_argument("--pad", type=int, default=0, help="zeros on every side of the images (modulo's dataset pad)")
    ap.add_argument("--obj-tol", type=float, default=1e-6)
    ap.add_argument("--fixed-tol", type=float, default=1e-9)
    ap.add_argument("--wm-tol", type=float, default=5e-3)
    ap.add_argument("--barrier-tol", type=float, default=1e-3)
    ap.add_argument("--logit-tol", type=float, default=1e-4, help="relative to the largest logit (at least 1)")
    ap.add_argument("--every-run", action="store_true", help="f: also the test barriers of every Python run (slow)")
    ap.add_argument("--json", help="write the numbers here")
    o = ap.parse_args()
    t0 = time.time()
    label = o.label + ": " if o.label else ""

    a, arch = read_network(o.a)
    b, arch_b = read_network(o.b)
    al, arch_al = read_network(o.aligned)
    for name, x in (("B", arch_b), ("aligned", arch_al)):
        if x != arch:
            sys.exit("crosscheck-align-conv: %s has architecture %s, A has %s" % (name, x, arch))
    shapes = {k: v.shape for k, v in a.items()}
    for name, t in (("B", b), ("aligned", al)):
        if {k: v.shape for k, v in t.items()} != shapes:
            sys.exit("crosscheck-align-conv: %s's tensors differ from A's" % name)
    spec = build_spec(arch.get("kind"), shapes)
    gm = read_permutation(o.perm, arch, spec)
    show_m, _ = parse_show(o.show_match)
    obj_mod = float(show_m["objective"])
    print("%snumpy %s, scipy %s; %s, %d tensors, %d parameters; %d groups %s; modulo: %s sweeps" % (
        label, np.__version__, __import__("scipy").__version__, arch.get("kind"), len(a), sum(x.size for x in a.values()),
        len(spec.order), " ".join("%s:%d" % (g, spec.sizes[g]) for g in spec.order), show_m.get("iterations", "?")))
    tab = Table()
    out = {"arch": arch, "groups": {g: spec.sizes[g] for g in spec.order}, "modulo_objective": obj_mod}

    # a. the objective of modulo's permutation.
    pb = apply_perm(spec, gm, b)
    obj = exact_inner(a, pb)
    rel = abs(obj - obj_mod) / abs(obj)
    tab.add("a objective", "sum <A, P(B)>, float64", "%.15g" % obj_mod, "%.15g" % obj, "rel %.1e" % rel, "rel %.0e" % o.obj_tol, rel <= o.obj_tol)
    obj_id = exact_inner(a, b)
    tab.add("a objective", "sum <A, B> (identity), for scale", "", "%.15g" % obj_id, "", "", None)
    out["identity_objective"] = obj_id

    # b. P(B) against modulo's aligned network, bit for bit.
    differ = [k for k in pb if not np.array_equal(pb[k].view(np.uint32), al[k].view(np.uint32))]
    nbits = sum(int(np.sum(pb[k].view(np.uint32) != al[k].view(np.uint32))) for k in pb)
    total = sum(x.size for x in pb.values())
    tab.add("b aligned", "float32 values differing, numpy P(B) vs aligned", "", "%d of %d" % (nbits, total),
            ", ".join(differ[:3]) + (" ..." if len(differ) > 3 else "") or "none", "0", nbits == 0)

    # c. modulo's permutation as a fixed point of the published descent.
    wm = WeightMatcher(spec, a, b)
    for g in spec.order:
        new, old_v, new_v = wm.resolve(gm, g)
        gain = (new_v - old_v) / abs(obj)
        tab.add("c fixed point", "group %s re-solved: relative gain, units moved" % g, "", "%.1e, %d of %d" % (
            gain, int(np.sum(new != gm[g])), len(new)), "", "rel %.0e" % o.fixed_tol, gain <= o.fixed_tol)
    for seed in range(2):
        g, sw = wm.run(gm, np.random.default_rng(1000 + seed))
        v = exact_inner(a, apply_perm(spec, g, b))
        gain = (v - obj) / abs(obj)
        tab.add("c fixed point", "descent from modulo's, order seed %d: gain, sweeps, same units" % (1000 + seed), "",
                "%.1e, %d, %.4f" % (gain, sw, agreement(spec, g, gm)), "", "rel %.0e" % o.fixed_tol, gain <= o.fixed_tol)

    # d. the published descent from the identity.
    runs = []
    for seed in range(o.orders):
        tw = time.time()
        g, sw = wm.run(identity(spec), np.random.default_rng(seed))
        v = exact_inner(a, apply_perm(spec, g, b))
        runs.append((v, seed, g))
        tab.add("d from identity", "order seed %d: objective (%d sweeps, %.2f s); same units as modulo's %.4f" % (
            seed, sw, time.time() - tw, agreement(spec, g, gm)), "%.10g" % obj_mod, "%.10g" % v,
            "%+.4f%%" % (100 * (v - obj_mod) / abs(obj_mod)), "", None)
    best_v, best_seed, best = max(runs, key=lambda r: r[0])
    d = (best_v - obj_mod) / abs(obj_mod)
    tab.add("d from identity", "best of %d orders (seed %d) minus modulo's, relative" % (o.orders, best_seed), "%.10g" % obj_mod,
            "%.10g" % best_v, "%+.4f%%" % (100 * d), "<= +%.1f%%" % (100 * o.wm_tol), d <= o.wm_tol)
    vs = sorted(r[0] for r in runs)
    tab.add("d from identity", "Python's objectives: min / median / max; modulo's rank among them", "%.10g" % obj_mod,
            "%.10g / %.10g / %.10g" % (vs[0], vs[len(vs) // 2], vs[-1]), "rank %d of %d" % (1 + sum(v > obj_mod for v in vs), len(vs) + 1), "", None)
    pair = [agreement(spec, runs[i][2], runs[j][2]) for i in range(len(runs)) for j in range(i + 1, len(runs))]
    if pair:
        tab.add("d from identity", "same units between Python's runs: min / mean / max", "", "%.4f / %.4f / %.4f" % (
            min(pair), sum(pair) / len(pair), max(pair)), "", "", None)
    for g in spec.order:
        tab.add("d from identity", "group %s: same units, modulo's vs Python's best" % g, "", "%d of %d" % (
            int(np.sum(best[g] == gm[g])), spec.sizes[g]), "", "", None)
    out.update(python_objectives=[r[0] for r in runs], python_best_objective=best_v,
               same_units_best=agreement(spec, best, gm), same_units_runs=[agreement(spec, r[2], gm) for r in runs])

    # e. and f. the interpolation curves in PyTorch.
    import torch
    from torch_models import build, model_input
    xtr, ytr = load_split(o.mnist, "train")
    xte, yte = load_split(o.mnist, "test")
    splits = {"train": (np.ascontiguousarray(xtr[:o.train_examples]), ytr[:o.train_examples]),
              "test": (np.ascontiguousarray(xte[:o.test_examples]), yte[:o.test_examples])}
    print("%storch %s (%d threads); MNIST %s: %d training and %d test images, padded by %d" % (
        label, torch.__version__, torch.get_num_threads(), o.mnist, len(splits["train"][1]), len(splits["test"][1]), o.pad))
    if (arch["height"], arch["width"]) != (28 + 2 * o.pad, 28 + 2 * o.pad):
        sys.exit("crosscheck-align-conv: the network takes %dx%d images, MNIST padded by %d is %d" % (
            arch["height"], arch["width"], o.pad, 28 + 2 * o.pad))
    pq = apply_perm(spec, best, b)
    if o.points is None:
        o.points = int(parse_show(o.show_before)[1]["attr.points"])

    # g. the spec built here is a symmetry: B, modulo's P(B) and Python's Q(B) compute the
    # same logits in PyTorch (up to float32 rounding in the order of sums).
    x = model_input(torch.from_numpy(splits["test"][0][:500]), arch)
    logits = {}
    with torch.no_grad():
        for name, net in (("B", b), ("P(B)", pb), ("Q(B)", pq)):
            model = build(arch).eval()
            model.load_state_dict({k: torch.from_numpy(v) for k, v in net.items()}, strict=True)
            logits[name] = model(x).double().numpy()
    scale = float(np.abs(logits["B"]).max())
    for name in ("P(B)", "Q(B)"):
        diff = float(np.abs(logits[name] - logits["B"]).max())
        tab.add("g symmetry", "PyTorch logits of %s vs B, 500 test images: max |diff| (max |logit| %.3g)" % (name, scale),
                "", "%.1e" % diff, "", "%.0e" % o.logit_tol, diff <= o.logit_tol * max(1.0, scale))
    bars = {}
    for name, bb, path in (("before", b, o.show_before), ("after", pb, o.show_after), ("python", pq, None)):
        tw = time.time()
        alphas, curve = torch_curves(torch, build, model_input, a, bb, arch, splits, o.points)
        bars[name] = {(m, s): barrier(alphas, curve[(m, s)]) for m in ("loss", "error") for s in splits}
        bars[name]["ends"] = {(m, s): (curve[(m, s)][0], curve[(m, s)][-1]) for m in ("loss", "error") for s in splits}
        print("%sPyTorch curve %s: %.1f s" % (label, name, time.time() - tw))
        if path is None:
            continue
        outs, prov = parse_show(path)
        for attr, want in (("attr.points", o.points), ("attr.train_examples", o.train_examples)):
            if attr in prov and int(prov[attr]) != want:
                tab.add("e " + name, "modulo's %s" % attr, prov[attr], str(want), "", "equal", False)
        mod_curve = json.loads(outs["curve"]) if "curve" in outs else None
        for metric in ("loss", "error"):
            mod_bar = json.loads(outs["%s_barrier" % metric])
            for s in ("train", "test"):
                f = curve[(metric, s)]
                ours = bars[name][(metric, s)]
                diff = abs(ours - mod_bar[s])
                extra = ""
                if mod_curve is not None and len(mod_curve) == len(f):
                    mf = [r["%s_%s" % (s, metric)] for r in mod_curve]
                    if metric == "error":
                        n = len(splits[s][1])
                        extra = "; curve: max %d image(s) apart" % max(round(abs(x - y) * n) for x, y in zip(mf, f))
                    else:
                        extra = "; curve: max |diff| %.1e" % max(abs(x - y) for x, y in zip(mf, f))
                tab.add("e " + name, "%s barrier, %s (f(0) %.5f, f(1) %.5f%s)" % (metric, s, f[0], f[-1], extra),
                        "%.6f" % mod_bar[s], "%.6f" % ours, "%.1e" % diff, "%.0e" % o.barrier_tol, diff <= o.barrier_tol)

    # f. the science question: Python's own best permutation against modulo's.
    dist = {"before": distance(a, b), "after": distance(a, pb), "python": distance(a, pq)}
    objs = {"before": obj_id, "after": obj, "python": best_v}
    what = {"before": "none (identity)", "after": "modulo's weight matching", "python": "Python's best weight matching"}
    for name in ("before", "after", "python"):
        tab.add("f science", "%s: objective, |A - Q(B)|" % what[name], "", "%.6g, %.6g" % (objs[name], dist[name]), "", "", None)
    for metric in ("loss", "error"):
        for s in ("train", "test"):
            tab.add("f science", "%s barrier, %s: none / modulo's WM / Python's best WM (PyTorch)" % (metric, s), "", "%.4f / %.4f / %.4f" % (
                bars["before"][(metric, s)], bars["after"][(metric, s)], bars["python"][(metric, s)]), "", "", None)
    if o.every_run:
        # How the barrier varies between the local optima of the descent: the test
        # barriers of every Python run, by objective.
        out["python_runs"] = []
        test = {"test": splits["test"]}
        for v, seed, g in sorted(runs, key=lambda r: -r[0]):
            alphas, curve = torch_curves(torch, build, model_input, a, apply_perm(spec, g, b), arch, test, o.points)
            lb, eb = barrier(alphas, curve[("loss", "test")]), barrier(alphas, curve[("error", "test")])
            out["python_runs"].append({"seed": seed, "objective": v, "loss_barrier_test": lb, "error_barrier_test": eb})
            tab.add("f science", "Python's order seed %d: objective; test loss / error barrier" % seed, "",
                    "%.6g; %.4f / %.4f" % (v, lb, eb), "", "", None)
    out["barriers"] = {n: {"%s_%s" % k: v for k, v in bars[n].items() if k != "ends"} for n in bars}
    out["distance"] = dist

    print()
    tab.print()
    print()
    print("%schecks done in %.1f s" % (label, time.time() - t0))
    if o.json:
        with open(o.json, "w") as f:
            json.dump(out, f, indent=1)
    if tab.failed:
        print("crosscheck-align-conv %sFAIL: %s" % (label, "; ".join(tab.failed)))
        sys.exit(1)
    print("crosscheck-align-conv %sOK: objective, aligned network, fixed point, weight matching and the 8 barriers agree" % label)


if __name__ == "__main__":
    main()
