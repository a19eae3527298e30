#!/usr/bin/env python3
"""numpy, scipy and PyTorch side of `make crosscheck-align`: recompute, independently of
modulo's Go code, what `match` (weight matching) and `interpolate` reported for two MLPs
A and B, and exit 1 if any of five checks fails:

  1. objective: sum over all parameters of <A, P(B)>, recomputed in float64 from the
     exported networks and permutation (exactly: every float32 product is exact in float64,
     and math.fsum rounds the sum once), equals modulo's `objective` to relative 1e-6;
  2. P(B) applied in numpy equals modulo's `aligned` network bit for bit (float32);
  3. modulo's permutation is a fixed point of the published coordinate descent: with the
     other groups at modulo's permutation, re-solving any one group's assignment (cost in
     float64, scipy.optimize.linear_sum_assignment) gains at most 1e-9 of the objective,
     and the full descent started from it gains at most that much too;
  4. the published weight matching run here from the identity (several random group
     orders drawn with numpy's RNG) reaches an objective within 0.5% of modulo's; the
     fraction of units both permutations put in the same place is reported;
  5. PyTorch (float32 model, cross-entropy summed in float64) recomputes the interpolation
     curves (1-a)A + aB before and after alignment at a = i/24, i = 0..24, on the first
     10,000 training and the 10,000 test images, and the barriers
     max_a f(a) - ((1-a)f(0) + a f(1)) of loss and error on both splits match modulo's
     within 1e-3 absolute.

Weight matching (Ainsworth, Hayase and Srinivasa, "Git Re-Basin", ICLR 2023, Algorithm 1
and the authors' weight_matching): hidden layer l is a permutation group P_l, with
P(B).W_l = P_l B.W_l P_{l-1}^T (inputs and logits are never permuted). Each sweep visits
the groups in a random order; for group l it builds
    C_l = A.W_l (B.W_l P_{l-1}^T)^T + A.W_{l+1}^T (P_{l+1} B.W_{l+1}) + a.b_l b.b_l^T
          (+ the LayerNorm gain and bias outer products, if any),
solves the maximum linear assignment of C_l and adopts it; the sweep made progress if some
group's new value exceeds its old one by more than 1e-12, and the descent stops after a
sweep without progress (at most 100 sweeps). Groups are stored as modulo stores them:
group[i] is the index in B of the unit placed at position i.

modulo's numbers are parsed from the output of `modulo show` (match, and the interpolate
stages before and after alignment). The safetensors files are read with a small
pure-Python reader (no safetensors package)."""

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
from mnist_idx import load_split  # noqa: E402
from safetensors_np import read_safetensors  # noqa: E402
PARAM = re.compile(r"(layers|norms)\.(\d+)\.(weight|bias)")


# ---------------------------------------------------------------- reading the files


def read_network(path):
    """Return (params {name: float32 array}, arch dict) of a network modulo exported."""
    t, meta, dtypes = read_safetensors(path)
    if "modulo.arch" not in meta:
        raise ValueError("%s has no modulo.arch metadata" % path)
    arch = json.loads(meta["modulo.arch"])
    if arch.get("kind") != "mlp":
        raise ValueError("%s: only MLPs are supported here, not %s" % (path, arch))
    L = len(arch.get("hidden") or [])
    widths = [arch["input"]] + list(arch.get("hidden") or []) + [arch["output"]]
    want = {}
    for i in range(L + 1):
        want["layers.%d.weight" % i] = (widths[i + 1], widths[i])
        if arch.get("bias"):
            want["layers.%d.bias" % i] = (widths[i + 1],)
    if arch.get("layer_norm"):
        for l in range(L):
            want["norms.%d.weight" % l] = want["norms.%d.bias" % l] = (widths[l + 1],)
    got = {n: x.shape for n, x in t.items()}
    if got != want:
        raise ValueError("%s: tensors %s, but architecture %s needs %s" % (path, got, arch, want))
    bad = [n for n, d in dtypes.items() if d != "F32"]
    if bad:
        raise ValueError("%s: tensors %s are not F32" % (path, bad))
    return t, arch


def read_permutation(path, arch):
    """Return the groups of a permutation file, checked against arch."""
    t, meta, dtypes = read_safetensors(path)
    parch = json.loads(meta.get("modulo.arch", "null"))
    if parch != arch:
        raise ValueError("%s is a permutation of %s, not of %s" % (path, parch, arch))
    hidden = arch.get("hidden") or []
    names = ["perm.%d" % l for l in range(len(hidden))]
    if sorted(t) != sorted(names):
        raise ValueError("%s holds %s, expected %s" % (path, sorted(t), names))
    groups = []
    for l, w in enumerate(hidden):
        g = t["perm.%d" % l]
        if dtypes["perm.%d" % l] != "I64" or g.shape != (w,):
            raise ValueError("%s: perm.%d is %s %s, want I64 [%d]" % (path, l, dtypes["perm.%d" % l], list(g.shape), w))
        if not np.array_equal(np.sort(g), np.arange(w)):
            raise ValueError("%s: perm.%d is not a permutation of 0..%d" % (path, l, w - 1))
        groups.append(g.astype(np.int64))
    return groups


def parse_show(path):
    """Return {output name: text} from the outputs section of `modulo show`, plus the
    provenance lines as {"attr.NAME": text}."""
    outs, prov, section = {}, {}, None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line == "outputs:":
                section = outs
                continue
            if line.startswith("provenance"):
                section = prov
                continue
            m = re.match(r"^  (\S+)\s+(.*)$", line)
            if section is not None and m:
                section[m.group(1)] = m.group(2)
    if not outs:
        raise ValueError("%s: no outputs in modulo show's output" % path)
    return outs, prov


# ---------------------------------------------------------------- permutations


def apply_perm(p, groups):
    """P(B): for hidden group l, the rows of layers.l.weight, the entries of layers.l.bias,
    norms.l.weight and norms.l.bias, and the columns of layers.(l+1).weight follow group l
    (position i takes unit groups[l][i])."""
    L = len(groups)
    out = {}
    for name, x in p.items():
        kind, i, what = PARAM.fullmatch(name).groups()
        i = int(i)
        if i < L:
            x = x[groups[i]]
        if kind == "layers" and what == "weight" and i >= 1:
            x = x[:, groups[i - 1]]
        out[name] = np.ascontiguousarray(x)
    return out


def exact_inner(a, b):
    """sum over parameters of <a, b>, correctly rounded: a float32 product is exact in
    float64 and math.fsum adds without intermediate rounding."""
    return math.fsum(math.fsum((a[k].astype(np.float64) * b[k].astype(np.float64)).ravel()) for k in sorted(a))


def fixed_point_fraction(g, h):
    same = sum(int(np.sum(x == y)) for x, y in zip(g, h))
    return same / sum(len(x) for x in g)


class WeightMatcher:
    """The published weight-matching coordinate descent, numpy float64 + scipy."""

    def __init__(self, a, b, arch):
        self.L = len(arch.get("hidden") or [])
        self.widths = list(arch.get("hidden") or [])
        f = lambda p: {k: v.astype(np.float64) for k, v in p.items()}  # noqa: E731
        self.a, self.b = f(a), f(b)

    def cost(self, g, l):
        """C[i, j]: what putting B's unit j at position i of group l contributes, with B's
        other groups permuted by g."""
        a, b = self.a, self.b
        w = b["layers.%d.weight" % l]
        if l > 0:
            w = w[:, g[l - 1]]
        c = a["layers.%d.weight" % l] @ w.T
        wn = b["layers.%d.weight" % (l + 1)]
        if l + 1 < self.L:
            wn = wn[g[l + 1], :]
        c += a["layers.%d.weight" % (l + 1)].T @ wn
        for name in ("layers.%d.bias" % l, "norms.%d.weight" % l, "norms.%d.bias" % l):
            if name in a:
                c += np.outer(a[name], b[name])
        return c

    def resolve(self, g, l):
        """Return (new group, old value, new value) of solving group l exactly."""
        c = self.cost(g, l)
        rows, cols = linear_sum_assignment(c, maximize=True)
        assert np.array_equal(rows, np.arange(len(rows)))
        idx = np.arange(c.shape[0])
        return cols.astype(np.int64), float(c[idx, g[l]].sum()), float(c[idx, cols].sum())

    def run(self, init, rng, max_sweeps=100):
        """Coordinate descent from init; returns (groups, sweeps, total gain)."""
        g = [x.copy() for x in init]
        sweeps, total = 0, 0.0
        for _ in range(max_sweeps):
            sweeps += 1
            progress = False
            for l in rng.permutation(self.L):
                new, old_v, new_v = self.resolve(g, l)
                progress = progress or new_v > old_v + 1e-12
                total += new_v - old_v
                g[l] = new
            if not progress:
                break
        return g, sweeps, total


# ---------------------------------------------------------------- PyTorch curves


def torch_curves(torch, a, b, arch, splits, points):
    """Loss and error at alpha = i/(points-1) on each split, as modulo measures them: the
    weights are float32((1-alpha)*a + alpha*b) computed in float64 (nn.Combine), the model
    runs in float32, the cross-entropy is summed in float64, and a prediction is the first
    largest logit."""
    from torch.nn import functional as F
    from crosscheck import build  # the float32 module of `make crosscheck`, modulo's names

    model = build(arch)
    a64 = {k: v.astype(np.float64) for k, v in a.items()}
    b64 = {k: v.astype(np.float64) for k, v in b.items()}
    alphas = [i / (points - 1) for i in range(points)]
    data = {s: (torch.from_numpy(x), torch.from_numpy(y), y) for s, (x, y) in splits.items()}
    curve = {(m, s): [] for m in ("loss", "error") for s in splits}
    with torch.no_grad():
        for al in alphas:
            state = {}
            for k in a:
                w = ((1 - al) * a64[k] + al * b64[k]).astype(np.float32)
                state[k] = torch.from_numpy(w)
            model.load_state_dict(state, strict=True)
            for s, (x, y, ynp) in data.items():
                logits = model(x)
                loss = F.cross_entropy(logits.double(), y, reduction="sum").item() / len(ynp)
                wrong = int(np.sum(logits.numpy().argmax(1) != ynp))
                curve[("loss", s)].append(loss)
                curve[("error", s)].append(wrong / len(ynp))
    return alphas, curve


def torch_repaired_curve(torch, a, b, arch, splits, points, xr):
    """The curve between a and b with every inner point reset by REPAIR as modulo does it
    (nn.Repair): per hidden layer, the preactivation z = h W^T + b of the interpolated
    network on the rows xr, after the layers below were reset; per channel, its mean and
    population std (float64), the goal (1-alpha)*stats(a) + alpha*stats(b), the scale
    s = goal_std / sqrt(var + 1e-5) and shift goal_mean - mean*s fused into the row of W
    and the bias, each rounded to float32 once."""
    from torch.nn import functional as F
    from crosscheck import build

    hidden = len(arch["hidden"])
    x = torch.from_numpy(np.ascontiguousarray(xr))

    def layer_pass(state, fix):
        h = x
        for l in range(hidden):
            w = torch.from_numpy(state["layers.%d.weight" % l])
            bias = torch.from_numpy(state["layers.%d.bias" % l])
            z = h @ w.T + bias
            z = fix(l, z)
            h = torch.relu(z)

    def stats(state):
        out = []
        def fix(l, z):
            z64 = z.double().numpy()
            out.append((z64.mean(0), z64.std(0)))
            return z
        layer_pass(state, fix)
        return out

    sa, sb = stats(a), stats(b)
    model = build(arch)
    a64 = {k: v.astype(np.float64) for k, v in a.items()}
    b64 = {k: v.astype(np.float64) for k, v in b.items()}
    alphas = [i / (points - 1) for i in range(points)]
    data = {s: (torch.from_numpy(xs), torch.from_numpy(ys), ys) for s, (xs, ys) in splits.items()}
    curve = {(m, s): [] for m in ("loss", "error") for s in splits}
    with torch.no_grad():
        for al in alphas:
            state = {k: ((1 - al) * a64[k] + al * b64[k]).astype(np.float32) for k in a}
            if 0 < al < 1:
                def fix(l, z):
                    z64 = z.double().numpy()
                    mean, std = z64.mean(0), z64.std(0)
                    gm = (1 - al) * sa[l][0] + al * sb[l][0]
                    gs = (1 - al) * sa[l][1] + al * sb[l][1]
                    s = gs / np.sqrt(std * std + 1e-5)
                    shift = gm - mean * s
                    w = "layers.%d.weight" % l
                    bn = "layers.%d.bias" % l
                    state[w] = (state[w].astype(np.float64) * s[:, None]).astype(np.float32)
                    state[bn] = (state[bn].astype(np.float64) * s + shift).astype(np.float32)
                    return torch.from_numpy((z64 * s + shift).astype(np.float32))
                layer_pass(state, fix)
            model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
            for s, (xs, ys, ynp) in data.items():
                logits = model(xs)
                loss = F.cross_entropy(logits.double(), ys, reduction="sum").item() / len(ynp)
                wrong = int(np.sum(logits.numpy().argmax(1) != ynp))
                curve[("loss", s)].append(loss)
                curve[("error", s)].append(wrong / len(ynp))
    return alphas, curve


def barrier(alphas, f):
    return max(f[i] - ((1 - al) * f[0] + al * f[-1]) for i, al in enumerate(alphas))


# ---------------------------------------------------------------- main


class Table:
    def __init__(self):
        self.rows, self.failed = [], []

    def add(self, check, what, modulo, ours, diff, tol, ok):
        status = "-" if ok is None else ("ok" if ok else "FAIL")
        self.rows.append((check, what, modulo, ours, diff, tol, status))
        if ok is False:
            self.failed.append("%s %s" % (check, what))

    def print(self):
        head = ("check", "quantity", "modulo", "numpy/scipy/PyTorch", "difference", "tolerance", "")
        w = [max(len(str(r[i])) for r in self.rows + [head]) for i in range(len(head))]
        line = "  ".join("%-*s" % (w[i], head[i]) for i in range(len(head)))
        print(line.rstrip())
        print("  ".join("-" * x for x in w).rstrip())
        last = None
        for r in self.rows:
            if last is not None and r[0] != last:
                print()
            last = r[0]
            print("  ".join("%-*s" % (w[i], r[i]) for i in range(len(r))).rstrip())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--a", required=True, help="reference network A (safetensors)")
    ap.add_argument("--b", required=True, help="target network B (safetensors)")
    ap.add_argument("--perm", required=True, help="match's permutation (safetensors)")
    ap.add_argument("--aligned", required=True, help="match's aligned network (safetensors)")
    ap.add_argument("--show-match", required=True, help="output of `modulo show` of the match stage")
    ap.add_argument("--show-before", required=True, help="output of `modulo show` of interpolate A-B")
    ap.add_argument("--show-after", required=True, help="output of `modulo show` of interpolate A-P(B)")
    ap.add_argument("--show-repaired", help="output of `modulo show` of interpolate A-P(B) with repair = true")
    ap.add_argument("--repair-examples", type=int, default=10000)
    ap.add_argument("--show-ste", help="output of `modulo show` of match method = ste")
    ap.add_argument("--ste-perm", help="its permutation (safetensors)")
    ap.add_argument("--repair-tol", type=float, default=1e-4)
    ap.add_argument("--mnist", required=True, help="MNIST IDX directory")
    ap.add_argument("--orders", type=int, default=5, help="random group orders for check 4")
    ap.add_argument("--points", type=int, default=25)
    ap.add_argument("--train-examples", type=int, default=10000)
    ap.add_argument("--obj-tol", type=float, default=1e-6)
    ap.add_argument("--fixed-tol", type=float, default=1e-9)
    ap.add_argument("--wm-tol", type=float, default=5e-3)
    ap.add_argument("--barrier-tol", type=float, default=1e-3)
    o = ap.parse_args()
    t0 = time.time()

    a, arch = read_network(o.a)
    b, arch_b = read_network(o.b)
    al, arch_al = read_network(o.aligned)
    for name, x in (("B", arch_b), ("aligned", arch_al)):
        if x != arch:
            sys.exit("crosscheck-align: %s has architecture %s, A has %s" % (name, x, arch))
    gm = read_permutation(o.perm, arch)
    show_m, _ = parse_show(o.show_match)
    obj_mod = float(show_m["objective"])
    sweeps_mod = show_m.get("iterations", "?")
    print("numpy %s, scipy %s; networks %s, %d parameters; modulo's permutation: %d groups, %s sweeps" % (
        np.__version__, __import__("scipy").__version__, "-".join(map(str, [arch["input"]] + arch["hidden"] + [arch["output"]])),
        sum(x.size for x in a.values()), len(gm), sweeps_mod))
    tab = Table()

    # 1. the objective of modulo's permutation.
    pb = apply_perm(b, gm)
    obj = exact_inner(a, pb)
    rel = abs(obj - obj_mod) / abs(obj)
    tab.add("1 objective", "sum <A, P(B)>, float64", "%.15g" % obj_mod, "%.15g" % obj, "rel %.1e" % rel, "rel %.0e" % o.obj_tol, rel <= o.obj_tol)
    obj_id = exact_inner(a, b)
    tab.add("1 objective", "sum <A, B> (identity), for scale", "", "%.15g" % obj_id, "", "", None)

    # 2. P(B) against modulo's aligned network, bit for bit.
    differ = [k for k in sorted(pb) if not np.array_equal(pb[k].view(np.uint32), al[k].view(np.uint32))]
    nbits = sum(int(np.sum(pb[k].view(np.uint32) != al[k].view(np.uint32))) for k in pb)
    total = sum(x.size for x in pb.values())
    tab.add("2 aligned", "float32 values differing, numpy P(B) vs aligned", "", "%d of %d" % (nbits, total),
            ", ".join(differ) or "none", "0", nbits == 0)

    # 3. modulo's permutation as a fixed point of the published descent.
    wm = WeightMatcher(a, b, arch)
    worst = 0.0
    for l in range(len(gm)):
        new, old_v, new_v = wm.resolve(gm, l)
        gain = (new_v - old_v) / abs(obj)
        worst = max(worst, gain)
        tab.add("3 fixed point", "group %d re-solved: relative gain, units moved" % l, "", "%.1e, %d of %d" % (
            gain, int(np.sum(new != gm[l])), len(new)), "", "rel %.0e" % o.fixed_tol, gain <= o.fixed_tol)
    for seed in range(2):
        g, sw, _ = wm.run(gm, np.random.default_rng(1000 + seed))
        v = exact_inner(a, apply_perm(b, g))
        gain = (v - obj) / abs(obj)
        tab.add("3 fixed point", "descent from modulo's, order seed %d: gain, sweeps, fixed points" % (1000 + seed), "",
                "%.1e, %d, %.4f" % (gain, sw, fixed_point_fraction(g, gm)), "", "rel %.0e" % o.fixed_tol, gain <= o.fixed_tol)

    # 4. the published descent from the identity.
    ident = [np.arange(w, dtype=np.int64) for w in arch["hidden"]]
    for seed in range(o.orders):
        tw = time.time()
        g, sw, _ = wm.run(ident, np.random.default_rng(seed))
        v = exact_inner(a, apply_perm(b, g))
        d = (v - obj_mod) / abs(obj_mod)
        tab.add("4 from identity", "order seed %d: objective (%d sweeps, %.2f s); fixed points with modulo's %.4f" % (
            seed, sw, time.time() - tw, fixed_point_fraction(g, gm)), "%.10g" % obj_mod, "%.10g" % v,
            "%+.4f%%" % (100 * d), "%.1f%%" % (100 * o.wm_tol), abs(d) <= o.wm_tol)

    # 5. the interpolation curves and barriers in PyTorch.
    import torch
    xtr, ytr = load_split(o.mnist, "train")
    xte, yte = load_split(o.mnist, "test")
    splits = {"train": (np.ascontiguousarray(xtr[:o.train_examples]), ytr[:o.train_examples]), "test": (xte, yte)}
    print("torch %s (%d threads); MNIST %s: %d of %d training images, %d test images" % (
        torch.__version__, torch.get_num_threads(), o.mnist, len(splits["train"][1]), len(ytr), len(yte)))
    for name, bb, path in (("before", b, o.show_before), ("after", pb, o.show_after)):
        outs, prov = parse_show(path)
        for attr, want in (("attr.points", o.points), ("attr.train_examples", o.train_examples)):
            if attr in prov and int(prov[attr]) != want:
                tab.add("5 " + name, "modulo's %s" % attr, prov[attr], str(want), "", "equal", False)
        tw = time.time()
        alphas, curve = torch_curves(torch, a, bb, arch, splits, o.points)
        mod_curve = json.loads(outs["curve"]) if "curve" in outs else None
        for metric in ("loss", "error"):
            mod_bar = json.loads(outs["%s_barrier" % metric])
            for s in ("train", "test"):
                f = curve[(metric, s)]
                ours = barrier(alphas, f)
                d = abs(ours - mod_bar[s])
                extra = ""
                if mod_curve is not None and len(mod_curve) == len(f):
                    mf = [r["%s_%s" % (s, metric)] for r in mod_curve]
                    if metric == "error":
                        n = len(splits[s][1])
                        extra = "; curve: max %d image(s) apart" % max(round(abs(x - y) * n) for x, y in zip(mf, f))
                    else:
                        extra = "; curve: max |diff| %.1e" % max(abs(x - y) for x, y in zip(mf, f))
                tab.add("5 " + name, "%s barrier, %s (f(0) %.5f, f(1) %.5f%s)" % (metric, s, f[0], f[-1], extra),
                        "%.6f" % mod_bar[s], "%.6f" % ours, "%.1e" % d, "%.0e" % o.barrier_tol, d <= o.barrier_tol)
        print("PyTorch curve %s alignment: %.1f s" % (name, time.time() - tw))

    # 6. REPAIR in PyTorch against modulo's repaired curve.
    if o.show_repaired:
        outs, _ = parse_show(o.show_repaired)
        mod_curve = json.loads(outs["curve"])
        tw = time.time()
        xr = splits["train"][0][:o.repair_examples]
        alphas, curve = torch_repaired_curve(torch, a, pb, arch, splits, len(mod_curve), xr)
        for metric in ("loss", "error"):
            for s in ("train", "test"):
                f = curve[(metric, s)]
                mf = [r["%s_%s" % (s, metric)] for r in mod_curve]
                if metric == "loss":
                    d = max(abs(x - y) for x, y in zip(mf, f))
                    tab.add("6 repair", "%s loss at every alpha (midpoint %.5f)" % (s, f[len(f) // 2]),
                            "%.6f" % mf[len(mf) // 2], "%.6f" % f[len(f) // 2], "max %.1e" % d, "%.0e" % o.repair_tol, d <= o.repair_tol)
                else:
                    n = len(splits[s][1])
                    apart = max(round(abs(x - y) * n) for x, y in zip(mf, f))
                    tab.add("6 repair", "%s error at every alpha (midpoint %.4f)" % (s, f[len(f) // 2]),
                            "%.4f" % mf[len(mf) // 2], "%.4f" % f[len(f) // 2], "%d image(s)" % apart, "1 image", apart <= 1)
        print("PyTorch REPAIR curve: %.1f s" % (time.time() - tw))

    # 7. learned matching's objective: the midpoint loss of its permutation.
    if o.show_ste and o.ste_perm:
        from torch.nn import functional as F
        from crosscheck import build
        outs, _ = parse_show(o.show_ste)
        obj = float(outs["objective"])
        g = read_permutation(o.ste_perm, arch)
        sb = apply_perm(b, g)
        mid = {k: (0.5 * a[k].astype(np.float64) + 0.5 * sb[k].astype(np.float64)).astype(np.float32) for k in a}
        model = build(arch)
        model.load_state_dict({k: torch.from_numpy(v) for k, v in mid.items()}, strict=True)
        x, y = splits["train"]
        with torch.no_grad():
            loss = F.cross_entropy(model(torch.from_numpy(x)).double(), torch.from_numpy(y), reduction="sum").item() / len(y)
        d = abs(loss - obj)
        tab.add("7 ste", "midpoint loss of the kept permutation, %d training images" % len(y),
                "%.6f" % obj, "%.6f" % loss, "%.1e" % d, "1e-04", d <= 1e-4)

    print()
    tab.print()
    print()
    print("checks done in %.1f s" % (time.time() - t0))
    if tab.failed:
        print("crosscheck-align FAIL: " + "; ".join(tab.failed))
        sys.exit(1)
    print("crosscheck-align OK: objective, aligned network, fixed point, weight matching, the 8 barriers, the REPAIR curve and STE's objective agree")


if __name__ == "__main__":
    main()
