#!/usr/bin/env python3
"""Trains a network in PyTorch on the dataset a modulo command hands over and saves it the
ways researchers save theirs, for TestPyTorchNetworkImport: net.pt with
torch.save(model.state_dict()) (as open_lth does), net.safetensors, and metrics.json with
the test accuracy and loss PyTorch measures, which modulo must measure too once it imports
the file with a network block.

Usage: train_export.py --model mlp|resnet --seed N --epochs N
"""

import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import modulo_io  # noqa: E402
from torch_models import MLP, ResNet  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--model", choices=["mlp", "resnet"], required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--epochs", type=int, default=2)
    args = p.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(modulo_io.threads())
    train_x, train_y, test_x, test_y, info = modulo_io.load_dataset("data")
    train_x, train_y = torch.from_numpy(train_x), torch.from_numpy(train_y)
    test_x, test_y = torch.from_numpy(test_x), torch.from_numpy(test_y)
    if args.model == "mlp":  # model { hidden = [32] }
        model = MLP([int(np.prod(info["shape"])), 32, info["classes"]])
    else:  # model { kind = "resnet", depth = 8, width = 4 }
        model = ResNet([4, 8, 16], 1, info["shape"][0], info["classes"], True)
    if args.model == "mlp":
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    else:  # a few steps of Adam leave it between chance and perfect on stripes
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    order = torch.Generator().manual_seed(args.seed)
    for epoch in range(args.epochs):
        perm = torch.randperm(len(train_x), generator=order)
        for i in range(0, len(train_x), 32):
            idx = perm[i:i + 32]
            loss = F.cross_entropy(model(train_x[idx]), train_y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        logits = model(test_x)
    acc = (logits.argmax(1) == test_y).double().mean().item()
    loss = F.cross_entropy(logits.double(), test_y).item()
    print(f"{args.model}: test accuracy {acc:.4f}, loss {loss:.4f} in PyTorch", flush=True)
    torch.save(model.state_dict(), "net.pt")
    modulo_io.save_safetensors("net.safetensors", model.state_dict())
    with open("metrics.json", "w") as f:
        json.dump([{"test_accuracy": acc, "test_loss": loss}], f)


if __name__ == "__main__":
    main()
