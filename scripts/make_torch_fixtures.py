#!/usr/bin/env python3
"""Writes the PyTorch files that the torch.save reader (nn/torchsave) and the network
stage are tested with, under nn/torchsave/testdata/. Each is a few KB. Run with Debian's Python
(python3-torch; torch 1.13 writes the zip format of torch.save since 1.6):

    /usr/bin/python3 scripts/make_torch_fixtures.py [DIR]

The networks are modulo's MLP 20-8-4 (a `dataset "syn" { source = "synthetic" }` has 20
features and 4 classes) and ResNet-8 of width 4 on 1×16×16 images with 4 classes (the
default `stripes` dataset), with the parameter names of scripts/torch_models.py:

  mlp.pt               torch.save(model.state_dict()): an OrderedDict, as open_lth saves
  mlp.safetensors      the same weights as safetensors (written with numpy)
  mlp_checkpoint.pt    a checkpoint dict: epoch, "model_state_dict", the optimizer's state,
                       an argparse.Namespace of arguments
  mlp_dataparallel.pt  {"state_dict": ...} with every name prefixed "module."
                       (torch.nn.DataParallel's state_dict)
  mlp_strided.pt       the same weights as views: a transposed weight (strides (1, 8)), a
                       bias at an offset into a larger storage, two tensors sharing one
  mlp_protocol4.pt     torch.save(..., pickle_protocol=4): frames, memoize, stack_global
  mlp_parameters.pt    dict(model.named_parameters()): nn.Parameter objects, not tensors
  mlp_f64.pt           model.double().state_dict()
  mlp_f16.pt           model.half().state_dict()
  mlp_missing.pt       layers.1.bias left out
  mlp_misshapen.pt     layers.0.bias of shape [9]
  mlp_batchnorm.pt     with a BatchNorm1d "norms.0" (running_mean, running_var, ...)
  mlp_module.pt        torch.save(model): the pickled module rather than its state_dict
  mlp_list.pt          torch.save(list of tensors): neither a state_dict nor a checkpoint
  mlp_truncated.pt     the first half of mlp.pt's bytes
  mlp_legacy.pt        _use_new_zipfile_serialization=False (the format before 1.6)
  resnet.pt            ResNet-8 ×4 with LayerNorm, torch.save(model.state_dict())
  resnet.safetensors   the same weights

The .safetensors files hold what PyTorch saved, for the Go tests to compare with what they
read from each .pt file.
"""

import argparse
import collections
import os
import sys

import numpy as np
import torch

sys.dont_write_bytecode = True  # no __pycache__ in the repository
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "examples", "pytorch"))
from modulo_io import save_safetensors  # noqa: E402
from torch_models import MLP, ResNet  # noqa: E402


class BatchNormMLP(torch.nn.Module):
    """An MLP with BatchNorm after its hidden layer: what modulo cannot import."""

    def __init__(self):
        super().__init__()
        self.layers = torch.nn.ModuleList([torch.nn.Linear(20, 8), torch.nn.Linear(8, 4)])
        self.norms = torch.nn.ModuleList([torch.nn.BatchNorm1d(8)])


def ordered(sd):
    """A plain state_dict copy: an OrderedDict of detached tensors."""
    return collections.OrderedDict((k, v.detach().clone()) for k, v in sd.items())


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir", nargs="?", default=os.path.join(HERE, "..", "nn", "torchsave", "testdata"))
    out = p.parse_args().dir
    os.makedirs(out, exist_ok=True)
    path = lambda name: os.path.join(out, name)  # noqa: E731

    torch.manual_seed(1)
    mlp = MLP([20, 8, 4])
    torch.save(mlp.state_dict(), path("mlp.pt"))  # with its _metadata, as a model's is
    sd = ordered(mlp.state_dict())  # a copy: the optimizer below changes the parameters
    save_safetensors(path("mlp.safetensors"), sd)

    opt = torch.optim.SGD(mlp.parameters(), lr=0.1, momentum=0.9)
    mlp(torch.randn(3, 20)).sum().backward()
    opt.step()  # the optimizer's state now holds momentum buffers
    with torch.no_grad():  # but the checkpoint's weights are mlp.pt's
        for k, v in mlp.state_dict().items():
            v.copy_(sd[k])
    torch.save({"epoch": 3, "model_state_dict": mlp.state_dict(), "optimizer_state_dict": opt.state_dict(),
                "args": argparse.Namespace(lr=0.1, seed=1), "note": "a checkpoint"}, path("mlp_checkpoint.pt"))
    torch.save({"state_dict": collections.OrderedDict(("module." + k, v) for k, v in sd.items())},
               path("mlp_dataparallel.pt"))

    # Views: torch.save keeps each tensor's storage whole with its offset and strides.
    w0 = sd["layers.0.weight"]  # 8×20
    transposed = w0.t().contiguous().t()  # the same values, strides (1, 8)
    assert transposed.stride() == (1, 8)
    big = torch.zeros(30)
    big[5:13] = sd["layers.0.bias"]
    shared = torch.cat([sd["layers.1.weight"].flatten(), sd["layers.1.bias"]])
    strided = collections.OrderedDict([
        ("layers.0.weight", transposed),
        ("layers.0.bias", big[5:13]),
        ("layers.1.weight", shared[:32].view(4, 8)),
        ("layers.1.bias", shared[32:]),
    ])
    torch.save(strided, path("mlp_strided.pt"))

    torch.save(sd, path("mlp_protocol4.pt"), pickle_protocol=4)
    torch.save({k: torch.nn.Parameter(v) for k, v in sd.items()}, path("mlp_parameters.pt"))
    torch.save(ordered({k: v.double() for k, v in sd.items()}), path("mlp_f64.pt"))
    torch.save(ordered({k: v.half() for k, v in sd.items()}), path("mlp_f16.pt"))
    missing = ordered(sd)
    del missing["layers.1.bias"]
    torch.save(missing, path("mlp_missing.pt"))
    misshapen = ordered(sd)
    misshapen["layers.0.bias"] = torch.zeros(9)
    torch.save(misshapen, path("mlp_misshapen.pt"))
    torch.save(BatchNormMLP().state_dict(), path("mlp_batchnorm.pt"))
    torch.save(mlp, path("mlp_module.pt"))
    torch.save([v for v in sd.values()], path("mlp_list.pt"))
    with open(path("mlp.pt"), "rb") as f:
        b = f.read()
    with open(path("mlp_truncated.pt"), "wb") as f:
        f.write(b[:len(b) // 2])
    torch.save(sd, path("mlp_legacy.pt"), _use_new_zipfile_serialization=False)

    torch.manual_seed(2)
    resnet = ResNet([4, 8, 16], 1, 1, 4, True)
    rsd = resnet.state_dict()
    torch.save(rsd, path("resnet.pt"))
    save_safetensors(path("resnet.safetensors"), rsd)

    for name in sorted(os.listdir(out)):
        print("%-22s %6d bytes" % (name, os.path.getsize(path(name))))


if __name__ == "__main__":
    main()
