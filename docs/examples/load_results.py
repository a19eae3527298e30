#!/usr/bin/env python3
"""Loads what modulo produced into numpy and PyTorch: a plan document (modulo plan -json),
a report's table (modulo export … report.x -o dir: dir/table.csv) and a network
(modulo export … final -o net.safetensors), and evaluates the network on random inputs.

Usage: load_results.py PLAN.json TABLE.csv NET.safetensors
"""

import csv
import json
import struct
import sys

import numpy as np
import torch


def read_safetensors(path):
    """name -> numpy array, and the metadata (modulo.arch is the architecture as JSON)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    dtypes = {"F32": np.float32, "I64": np.int64, "U8": np.uint8}
    out = {}
    for name, e in header.items():
        a, b = e["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + a:8 + n + b], dtype=np.dtype(dtypes[e["dtype"]]).newbyteorder("<")).reshape(e["shape"])
    return out, meta


def mlp(arch):
    """modulo's mlp: layers.i Linear layers, the activation between them."""
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


def main():
    plan_path, table_path, net_path = sys.argv[1:4]
    with open(plan_path) as f:
        plan = json.load(f)
    print("plan format %s: %d nodes, %s" % (plan["format_version"], len(plan["nodes"]),
          ", ".join("%d %s" % (v, k) for k, v in plan["summary"].items() if v)))

    with open(table_path, newline="") as f:
        rows = list(csv.DictReader(f))
    columns = list(rows[0])
    numeric = [c for c in columns if all(_isnum(r[c]) for r in rows)]
    table = np.array([[float(r[c]) for c in numeric] for r in rows])
    print("table: %d rows; numeric columns %s; column means %s" % (len(rows), numeric, np.round(table.mean(0), 4).tolist()))

    tensors, meta = read_safetensors(net_path)
    arch = json.loads(meta["modulo.arch"])
    if arch["kind"] != "mlp":
        sys.exit("this example builds MLPs; scripts/torch_models.py builds modulo's VGG and ResNet")
    model = mlp(arch)
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in tensors.items() if not k.startswith("mask.")}, strict=True)
    x = torch.from_numpy(np.random.default_rng(0).random((4, arch["input"]), dtype=np.float32))
    with torch.no_grad():
        logits = model(x)
    print("network %s: %d parameters; logits of 4 random inputs, shape %s, finite %s" % (
        "-".join(map(str, [arch["input"], *arch["hidden"], arch["output"]])),
        sum(p.numel() for p in model.parameters()), tuple(logits.shape), bool(torch.isfinite(logits).all())))


def _isnum(s):
    try:
        float(s)
        return True
    except ValueError:
        return False


if __name__ == "__main__":
    main()
