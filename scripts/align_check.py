#!/usr/bin/python3
"""Cross-check modulo's weight matching and barriers with numpy, scipy and PyTorch.

Given two networks A and B, the permutation modulo found (B -> A), the aligned network and
modulo's reported objective and barriers, this independently:
  1. recomputes the objective  sum over parameters <A, P(B)>  in float64 (rel. 1e-6);
  2. applies the permutation in numpy and compares with modulo's aligned network, bit for bit;
  3. checks the permutation is a fixed point of the published coordinate descent (Ainsworth
     et al. 2023): re-solving any one group's assignment with scipy gains nothing;
  4. runs that coordinate descent from the identity (numpy + scipy.optimize.
     linear_sum_assignment, several random group orders) and compares objectives (0.5%);
  5. recomputes the interpolation curves before and after alignment in PyTorch (25 points,
     first 10,000 training images, 10,000 test images) and the four barriers (1e-3).
Exits 1 if any check fails.
"""

import argparse
import json
import os
import sys

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crosscheck import read_safetensors, build  # noqa: E402
from mnist_idx import load_split  # noqa: E402


def params(path):
    t, meta = read_safetensors(path)
    arch = json.loads(meta["modulo.arch"])
    return {k: v.numpy() for k, v in t.items()}, arch


def groups(path):
    t, _ = read_safetensors(path)
    return [t["perm.%d" % l].numpy().astype(np.int64) for l in range(len(t))]


def apply_perm(p, g, nl):
    """P(B): rows of layer l and columns of layer l+1 follow group l."""
    q = {k: v.copy() for k, v in p.items()}
    for l, idx in enumerate(g):
        for name in ("layers.%d.weight" % l, "layers.%d.bias" % l, "norms.%d.weight" % l, "norms.%d.bias" % l):
            if name in q:
                q[name] = q[name][idx]
        nxt = "layers.%d.weight" % (l + 1)
        q[nxt] = q[nxt][:, idx]
    return q


def inner(a, b):
    return sum(float(np.dot(a[k].astype(np.float64).ravel(), b[k].astype(np.float64).ravel())) for k in a)


def group_cost(a, b, g, l):
    """Cost of group l with B's other groups permuted by g: sum of <row i of A, row j of B>
    over every weight touching group l."""
    nb = apply_perm(b, [g[k] if k != l else np.arange(len(g[l])) for k in range(len(g))], len(g))
    f64 = lambda x: x.astype(np.float64)
    c = f64(a["layers.%d.weight" % l]) @ f64(nb["layers.%d.weight" % l]).T
    for name in ("layers.%d.bias" % l, "norms.%d.weight" % l, "norms.%d.bias" % l):
        if name in a:
            c += np.outer(f64(a[name]), f64(nb[name]))
    w = "layers.%d.weight" % (l + 1)
    c += f64(a[w]).T @ f64(nb[w])
    return c


def weight_match(a, b, widths, rng, sweeps=100):
    g = [np.arange(w) for w in widths]
    for _ in range(sweeps):
        gained = 0.0
        for l in rng.permutation(len(widths)):
            c = group_cost(a, b, g, l)
            old = c[np.arange(len(g[l])), g[l]].sum()
            _, cols = linear_sum_assignment(c, maximize=True)
            new = c[np.arange(len(cols)), cols].sum()
            if new > old + 1e-12:
                g[l] = cols
                gained += new - old
        if gained <= 1e-12:
            break
    return g


def curve_barriers(a, b, arch, xtr, ytr, xte, yte, points=25):
    model = build(arch)
    out = {}
    series = {m + s: [] for m in ("loss", "error") for s in ("train", "test")}
    alphas = np.linspace(0, 1, points)
    with torch.no_grad():
        for al in alphas:
            sd = {k: torch.from_numpy(((1 - al) * a[k].astype(np.float64) + al * b[k].astype(np.float64)).astype(np.float32)) for k in a}
            model.load_state_dict({to_seq(k): v for k, v in sd.items()}, strict=True)
            for split, (x, y) in (("train", (xtr, ytr)), ("test", (xte, yte))):
                logits = model(torch.from_numpy(x))
                loss = torch.nn.functional.cross_entropy(logits.double(), torch.from_numpy(y), reduction="sum").item() / len(y)
                err = 1 - (logits.argmax(1).numpy() == y).mean()
                series["loss" + split].append(loss)
                series["error" + split].append(err)
    for key, f in series.items():
        f = np.array(f)
        out[key] = float(np.max(f - ((1 - alphas) * f[0] + alphas * f[-1])))
    return out


def to_seq(name):
    kind, i, what = name.split(".")
    return "%d.%s" % (2 * int(i), what)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--mnist", required=True)
    ap.add_argument("--modulo", required=True, help="JSON of modulo's objective and barriers")
    o = ap.parse_args()
    a, arch = params(os.path.join(o.dir, "a.safetensors"))
    b, _ = params(os.path.join(o.dir, "b.safetensors"))
    al, _ = params(os.path.join(o.dir, "aligned.safetensors"))
    g = groups(os.path.join(o.dir, "perm.safetensors"))
    ref = json.load(open(o.modulo))
    ok = True

    pb = apply_perm(b, g, len(g))
    obj = inner(a, pb)
    rel = abs(obj - ref["objective"]) / abs(obj)
    print("1. objective: numpy %.10g, modulo %.10g, relative difference %.2e (tolerance 1e-6)" % (obj, ref["objective"], rel))
    ok &= rel <= 1e-6

    same = all(np.array_equal(pb[k].view(np.uint32), al[k].view(np.uint32)) for k in pb)
    print("2. numpy's P(B) equals modulo's aligned network bit for bit: %s" % same)
    ok &= same

    worst = 0.0
    for l in range(len(g)):
        c = group_cost(a, b, g, l)
        cur = c[np.arange(len(g[l])), g[l]].sum()
        _, cols = linear_sum_assignment(c, maximize=True)
        worst = max(worst, (c[np.arange(len(cols)), cols].sum() - cur) / abs(obj))
    print("3. largest relative gain of re-solving one group from modulo's permutation: %.2e (tolerance 1e-9)" % worst)
    ok &= worst <= 1e-9

    widths = arch["hidden"]
    best = None
    for seed in range(3):
        gg = weight_match(a, b, widths, np.random.default_rng(seed))
        val = inner(a, apply_perm(b, gg, len(gg)))
        fixed = np.mean(np.concatenate([x == y for x, y in zip(gg, g)]))
        print("4. numpy weight matching, order seed %d: objective %.10g (%+.3f%% vs modulo), fixed points with modulo's %.3f" % (seed, val, 100 * (val - obj) / abs(obj), fixed))
        best = val if best is None else max(best, val)
    ok &= abs(best - obj) / abs(obj) <= 0.005

    xtr, ytr = load_split(o.mnist, "train")
    xte, yte = load_split(o.mnist, "test")
    xtr, ytr = xtr[:10000], ytr[:10000]
    for name, bb in (("before", b), ("after", pb)):
        got = curve_barriers(a, bb, arch, xtr, ytr, xte, yte)
        for m in ("loss", "error"):
            for s in ("train", "test"):
                mod = ref[name][m][s]
                d = abs(got[m + s] - mod)
                print("5. %-6s %-5s barrier %-5s: PyTorch %.6f, modulo %.6f, difference %.1e (tolerance 1e-3)" % (name, m, s, got[m + s], mod, d))
                ok &= d <= 1e-3
    print("crosscheck-align %s" % ("OK" if ok else "FAILED"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
