#!/usr/bin/env python3
"""Trains an MLP in PyTorch on the dataset a modulo command stage hands over, and writes it
where modulo reads it: net.safetensors (the state_dict, named as modulo's mlp names its
tensors: layers.0.weight, layers.0.bias, …) and metrics.csv (one row per epoch).

On a GPU node it trains on the GPU; here, on the CPU. Run by examples/pytorch.hcl.
"""

import argparse
import csv
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import modulo_io  # noqa: E402


class MLP(torch.nn.Module):
    """modulo's model { kind = "mlp", hidden = [...] }: linear layers with biases, ReLU
    between them; layers.i are the linear layers."""

    def __init__(self, sizes):
        super().__init__()
        self.layers = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        x = x.flatten(1)
        for layer in self.layers[:-1]:
            x = F.relu(layer(x))
        return self.layers[-1](x)


def evaluate(model, x, y, batch=1000):
    """Mean cross-entropy and accuracy of model on (x, y)."""
    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            logits = model(x[i:i + batch])
            loss += F.cross_entropy(logits, y[i:i + batch], reduction="sum").item()
            correct += (logits.argmax(1) == y[i:i + batch]).sum().item()
    model.train()
    return loss / len(x), correct / len(x)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--hidden", type=int, nargs="+", required=True)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--momentum", type=float, default=0.9)
    args = p.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(modulo_io.threads())
    device = "cuda" if torch.cuda.is_available() else "cpu"
    train_x, train_y, test_x, test_y, info = modulo_io.load_dataset("data")
    train_x, train_y = torch.from_numpy(train_x).to(device), torch.from_numpy(train_y).to(device)
    test_x, test_y = torch.from_numpy(test_x).to(device), torch.from_numpy(test_y).to(device)
    inputs = int(np.prod(info["shape"]))
    model = MLP([inputs, *args.hidden, info["classes"]]).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    order = torch.Generator().manual_seed(args.seed)

    rows = []
    for epoch in range(1, args.epochs + 1):
        perm = torch.randperm(len(train_x), generator=order).to(device)
        for i in range(0, len(train_x), args.batch_size):
            idx = perm[i:i + args.batch_size]
            loss = F.cross_entropy(model(train_x[idx]), train_y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        test_loss, test_acc = evaluate(model, test_x, test_y)
        print(f"epoch {epoch}/{args.epochs}: test loss {test_loss:.4f}, accuracy {test_acc:.4f}", flush=True)
        rows.append({"epoch": epoch, "test_loss": test_loss, "test_accuracy": test_acc})

    modulo_io.save_safetensors(modulo_io.output_path("net"), model.state_dict(), {"format": "pt"})
    with open(modulo_io.output_path("metrics"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


if __name__ == "__main__":
    main()
