#!/usr/bin/env python3
"""Loads what modulo produced into numpy and PyTorch: a plan document (modulo plan -json),
a table (a report's, exported as CSV or JSON: modulo export … report.x -o dir gives
dir/table.csv and dir/table.json; modulo export … train.x metrics -o metrics.csv any other
table output) and a network (modulo export … final -o net.safetensors), and evaluates the
network on a few inputs. docs/python.md walks through it.

Usage: load_results.py PLAN.json TABLE.csv|TABLE.json NET.safetensors
           [--inputs X.npy] [--out RESULT.json]

--inputs gives the inputs (N rows of the network's input features, float32; without it,
four random rows); --out writes the inputs' logits and predicted classes as JSON.

Debian's python3-torch has no safetensors package, so the file is read with numpy below:
an 8-byte little-endian header length, a JSON header (tensor names, dtypes, shapes, offsets,
and "__metadata__", whose "modulo.arch" is the architecture as JSON), then the raw tensors.
examples/pytorch/modulo_io.py has the same reader with a writer, for command stages.
"""

import argparse
import csv
import json
import math
import os
import struct
import sys

import numpy as np
import torch

_DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64,
           "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}


def read_safetensors(path):
    """(name -> numpy array, metadata) of a safetensors file."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    out = {}
    for name, e in header.items():
        a, b = e["data_offsets"]
        dt = np.dtype(_DTYPES[e["dtype"]]).newbyteorder("<")
        out[name] = np.frombuffer(raw[8 + n + a:8 + n + b], dtype=dt).reshape(e["shape"]).copy()
    return out, meta


def read_table(path):
    """(columns, rows) of a table exported as CSV (every cell a string, an empty one for a
    null) or JSON (a list of objects)."""
    with open(path, newline="") as f:
        if path.endswith(".json"):
            rows = json.load(f)
        else:
            rows = list(csv.DictReader(f))
    columns = []
    for r in rows:
        columns += [c for c in r if c not in columns]
    return columns, rows


def numeric_columns(columns, rows):
    """The columns whose every cell is a number (or null), as a float64 array, nulls NaN."""
    def num(x):
        if x is None or x == "":
            return math.nan
        if isinstance(x, bool):
            raise ValueError(x)
        return float(x)

    numeric = []
    for c in columns:
        try:
            [num(r.get(c)) for r in rows]
            numeric.append(c)
        except (TypeError, ValueError):
            pass
    return numeric, np.array([[num(r.get(c)) for c in numeric] for r in rows], dtype=np.float64)


def mlp(arch):
    """modulo's MLP: Linear layers named layers.0, layers.1, …, the activation between."""
    sizes = [arch["input"], *arch["hidden"], arch["output"]]
    act = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "gelu": torch.nn.GELU}[arch["activation"]]

    class MLP(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = torch.nn.ModuleList(torch.nn.Linear(a, b, bias=arch["bias"]) for a, b in zip(sizes[:-1], sizes[1:]))
            self.act = act()

        def forward(self, x):
            for layer in self.layers[:-1]:
                x = self.act(layer(x))
            return self.layers[-1](x)

    return MLP()


def build(arch):
    """The PyTorch module of arch: a plain MLP here; LayerNorm MLPs, VGGs and ResNets with
    the repository's scripts/torch_models.py, which builds every architecture modulo has."""
    if arch["kind"] == "mlp" and not arch.get("layer_norm"):
        return mlp(arch), lambda x: x
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
    import torch_models  # noqa: E402
    return torch_models.build(arch), lambda x: torch_models.model_input(x, arch)


def describe(arch):
    """A short name of arch, such as mlp 784-128-10 relu."""
    if arch["kind"] == "mlp":
        return "mlp %s %s" % ("-".join(map(str, [arch["input"], *arch["hidden"], arch["output"]])), arch["activation"])
    return "%s %s" % (arch["kind"], arch.get("plan"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("plan")
    ap.add_argument("table")
    ap.add_argument("network")
    ap.add_argument("--inputs", help="a .npy file of N input rows (default: 4 random rows)")
    ap.add_argument("--out", help="write the logits and predictions here, as JSON")
    args = ap.parse_args()

    with open(args.plan) as f:
        plan = json.load(f)
    print("plan format %s: %d nodes, %s" % (plan["format_version"], len(plan["nodes"]),
          ", ".join("%d %s" % (v, k) for k, v in plan["summary"].items() if v)))

    columns, rows = read_table(args.table)
    numeric, table = numeric_columns(columns, rows)
    t = torch.from_numpy(table)
    print("table: %d rows; numeric columns %s; column means %s" % (
        len(rows), numeric, np.round(np.nanmean(table, 0), 4).tolist()))
    print("as a PyTorch tensor: %s %s" % (tuple(t.shape), t.dtype))

    tensors, meta = read_safetensors(args.network)
    arch = json.loads(meta["modulo.arch"])
    model, shape = build(arch)
    # A pruned network's file may carry its masks too; the module has no place for them.
    model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items() if not k.startswith("mask.")}, strict=True)
    model.eval()
    if args.inputs:
        x = np.load(args.inputs).astype(np.float32)
    else:
        x = np.random.default_rng(0).random((4, arch["input"]), dtype=np.float32)
    with torch.no_grad():
        logits = model(shape(torch.from_numpy(x)))
    pred = logits.argmax(1)
    print("network %s: %d parameters; %d inputs: logits %s, predicted classes %s" % (
        describe(arch), sum(p.numel() for p in model.parameters()),
        x.shape[0], tuple(logits.shape), pred.tolist()))
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"logits": logits.tolist(), "predictions": pred.tolist()}, f)


if __name__ == "__main__":
    main()
