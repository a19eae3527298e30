#!/usr/bin/env python3
"""PyTorch modules for every architecture modulo trains, with the parameter names, shapes and
order of modulo's nn.Arch.Spec (nn/spec.go), so that a network modulo exports loads with
load_state_dict(strict=True) and the reverse. Shared by crosscheck.py, torch_step.py and
bench_train.py.

The convolutional kinds follow open_lth's models (cifar_vgg, cifar_resnet) with BatchNorm
replaced by the fork's OutputAffineLayerNorm, as the seed's experiments use them; modulo's
spec is the authority where the two differ:
  - ResNet's stem norm is the configured norm (open_lth builds a BatchNorm there whatever
    the configuration), and a shortcut convolution has stride 1 when it only changes the
    width (open_lth always uses 2; modulo's plans never take that path in stage 0 anyway).
  - The head pools globally (adaptive average pooling to 1×1); open_lth's VGG pools 2×2,
    which is the same on the 2×2 maps VGG leaves of a 32×32 image.
  - An MLP is modulo's own: "layers.i" linear layers and, with LayerNorm, "norms.i" after
    each hidden layer, applied before the activation.

Run as a script, it loads each safetensors file given (e.g. from scripts/nninit) into the
module its "modulo.arch" metadata describes and checks that the names, shapes and order of
the module's state_dict equal the file's tensors, exiting 1 if any file does not.

Usage: python3 scripts/torch_models.py NET.safetensors..."""

import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.dont_write_bytecode = True  # no __pycache__ in the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_np import read_safetensors  # noqa: E402

PLAN_POOL = 0  # nn.PlanPool: a 2×2 max-pool in a VGG plan (open_lth's "M")
LAYER_NORM_EPS = 1e-5  # PyTorch's default, and modulo's layerNormEps

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}  # GELU: exact (erf), as modulo


class OutputAffineLayerNorm(nn.Module):
    """The open_lth fork's LayerNorm for convolutions: over the channels at each position
    (channels moved last, normalised, moved back), with a per-channel affine."""

    def __init__(self, channels):
        super().__init__()
        self.layernorm = nn.LayerNorm(channels, eps=LAYER_NORM_EPS)

    def forward(self, x):
        if x.dim() <= 2:
            return self.layernorm(x)
        return torch.moveaxis(self.layernorm(torch.moveaxis(x, 1, -1)), -1, 1)


def norm(channels, layer_norm):
    return OutputAffineLayerNorm(channels) if layer_norm else nn.Identity()


class MLP(nn.Module):
    """modulo's MLP: linear layers "layers.i", each hidden one followed by LayerNorm
    "norms.i" (if any) and the activation."""

    def __init__(self, widths, activation="relu", layer_norm=False, bias=True):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError("activation %r is not one of %s" % (activation, ", ".join(ACTIVATIONS)))
        self.layers = nn.ModuleList(nn.Linear(widths[i], widths[i + 1], bias=bias) for i in range(len(widths) - 1))
        hidden = widths[1:-1]
        self.norms = nn.ModuleList(nn.LayerNorm(w, eps=LAYER_NORM_EPS) for w in hidden) if layer_norm else None
        self.act = ACTIVATIONS[activation]()
        if layer_norm:
            self._register_state_dict_hook(_interleave_norms)

    def forward(self, x):
        x = x.flatten(1)
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                if self.norms is not None:
                    x = self.norms[i](x)
                x = self.act(x)
        return x


def _interleave_norms(module, state_dict, prefix, local_metadata):
    """Put an MLP's state_dict in modulo's order, each hidden layer's norm after its linear
    layer (layers.0.*, norms.0.*, layers.1.*, ...), rather than every norm after every
    layer as the two ModuleLists have it. The MLP's entries are the last ones added."""
    ours = [k for k in state_dict if k.startswith(prefix)]
    entries = {k: state_dict.pop(k) for k in ours}

    def place(k):
        part, i = k[len(prefix):].split(".")[:2]
        return int(i), part == "norms"

    for k in sorted(ours, key=place):  # stable: weight before bias, as registered
        state_dict[k] = entries[k]
    return state_dict


class ConvModule(nn.Module):
    """One VGG convolution: 3×3 with bias, norm, ReLU (open_lth's cifar_vgg.ConvModule)."""

    def __init__(self, f_in, f_out, layer_norm):
        super().__init__()
        self.conv = nn.Conv2d(f_in, f_out, kernel_size=3, padding=1, bias=True)
        self.bn = norm(f_out, layer_norm)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class VGG(nn.Module):
    """open_lth's cifar_vgg: plan entries are convolution widths or PLAN_POOL ("M" is
    accepted too), then a global average pool and the linear head "fc"."""

    def __init__(self, plan, channels, outputs, layer_norm):
        super().__init__()
        layers, f = [], channels
        for p in plan:
            if p == PLAN_POOL or p == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                layers.append(ConvModule(f, p, layer_norm))
                f = p
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(f, outputs)

    def forward(self, x):
        x = self.layers(x)
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


class Block(nn.Module):
    """open_lth's cifar_resnet.Block: two 3×3 convolutions without bias, each followed by
    the norm, and a shortcut that is a 1×1 convolution and a norm where the block
    downsamples or changes the width, else the identity (an empty Sequential)."""

    def __init__(self, f_in, f_out, downsample, layer_norm):
        super().__init__()
        stride = 2 if downsample else 1
        self.conv1 = nn.Conv2d(f_in, f_out, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = norm(f_out, layer_norm)
        self.conv2 = nn.Conv2d(f_out, f_out, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = norm(f_out, layer_norm)
        if downsample or f_in != f_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(f_in, f_out, kernel_size=1, stride=stride, bias=False), norm(f_out, layer_norm))
        else:
            self.shortcut = nn.Sequential()

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    """open_lth's cifar_resnet: a 3×3 stem "conv"/"bn" to widths[0] channels, then one stage
    of `blocks` blocks per width (the first block of every stage but the first halving the
    image), a global average pool and the linear head "fc"."""

    def __init__(self, widths, blocks, channels, outputs, layer_norm):
        super().__init__()
        f = widths[0]
        self.conv = nn.Conv2d(channels, f, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn = norm(f, layer_norm)
        mods = []
        for s, w in enumerate(widths):
            for b in range(blocks):
                mods.append(Block(f, w, s > 0 and b == 0, layer_norm))
                f = w
        self.blocks = nn.Sequential(*mods)
        self.fc = nn.Linear(f, outputs)

    def forward(self, x):
        out = F.relu(self.bn(self.conv(x)))
        out = self.blocks(out)
        return self.fc(F.adaptive_avg_pool2d(out, 1).flatten(1))


def build(arch):
    """The module for modulo's architecture (the JSON of a network file's "modulo.arch")."""
    kind = arch.get("kind")
    ln = bool(arch.get("layer_norm"))
    if kind == "mlp":
        widths = [arch["input"]] + list(arch.get("hidden") or []) + [arch["output"]]
        return MLP(widths, arch["activation"], ln, bool(arch["bias"]))
    if kind not in ("vgg", "resnet"):
        raise ValueError("unknown model kind %r in %s; the kinds are mlp, vgg, resnet" % (kind, arch))
    if arch.get("activation", "relu") != "relu":
        raise ValueError("a %s uses relu, not %s" % (kind, arch["activation"]))
    if kind == "vgg":
        return VGG(arch["plan"], arch["channels"], arch["output"], ln)
    return ResNet(arch["plan"], arch["blocks"], arch["channels"], arch["output"], ln)


def arch_string(arch):
    """arch as nn.Arch.String writes it: "mlp 784-128-10 relu", "vgg 1x32x32 16-M-32 10"."""
    kind = arch["kind"]
    if kind == "mlp":
        s = "mlp %s %s" % ("-".join(map(str, [arch["input"]] + list(arch.get("hidden") or []) + [arch["output"]])),
                           arch["activation"])
    else:
        plan = "-".join("M" if p == PLAN_POOL else str(p) for p in arch["plan"])
        if kind == "resnet":
            plan += "x%d" % arch["blocks"]
        s = "%s %dx%dx%d %s %d" % (kind, arch["channels"], arch["height"], arch["width"], plan, arch["output"])
    if arch.get("layer_norm"):
        s += " layernorm"
    if kind == "mlp" and not arch.get("bias"):
        s += " nobias"
    return s


def model_input(x, arch):
    """The input the model of arch takes, from N flat rows (numpy or torch, float32) as
    modulo stores a dataset: an MLP takes the rows as they are; a convolutional kind takes
    N×C×H×W images, and rows of C×(H−2p)×(W−2p) pixels are padded with p zeros on every
    side, as modulo's dataset option pad = p does (MNIST's 28×28 to 32×32 with p = 2)."""
    x = torch.as_tensor(x)
    n, d = x.shape[0], int(np.prod(x.shape[1:]))
    if arch["kind"] == "mlp":
        if d != arch["input"]:
            raise ValueError("the data has %d features but %s takes %d" % (d, arch_string(arch), arch["input"]))
        return x.reshape(n, d)
    c, h, w = arch["channels"], arch["height"], arch["width"]
    for p in range(0, min(h, w) // 2):
        if d == c * (h - 2 * p) * (w - 2 * p):
            x = x.reshape(n, c, h - 2 * p, w - 2 * p)
            return F.pad(x, (p, p, p, p)) if p else x
    raise ValueError("the data's rows of %d values are not %d×%d×%d images, nor smaller ones that padding "
                     "on every side brings to that size; give the network images of its shape" % (d, c, h, w, arch_string(arch)))


def check_file(path):
    """Load a network file into build(arch) with load_state_dict(strict=True) and return
    (model, arch, problems): the ways its state_dict's names, shapes and order differ from
    the file's tensors (empty if none)."""
    arrays, metadata, _ = read_safetensors(path)
    if "modulo.arch" not in metadata:
        raise ValueError("%s has no modulo.arch metadata; write it with modulo export or scripts/nninit" % path)
    arch = json.loads(metadata["modulo.arch"])
    model = build(arch)
    ours = [(k, tuple(v.shape)) for k, v in model.state_dict().items()]
    theirs = [(k, tuple(v.shape)) for k, v in arrays.items()]
    problems = []
    if dict(ours) != dict(theirs):
        for k, s in ours:
            if k not in arrays:
                problems.append("module has %s %s, the file has no such tensor" % (k, list(s)))
            elif tuple(arrays[k].shape) != s:
                problems.append("%s: module %s, file %s" % (k, list(s), list(arrays[k].shape)))
        problems += ["the file has %s %s, the module has no such parameter" % (k, list(s))
                     for k, s in theirs if k not in dict(ours)]
    elif [k for k, _ in ours] != [k for k, _ in theirs]:
        problems.append("same names and shapes, different order: module %s, file %s" % (
            [k for k, _ in ours], [k for k, _ in theirs]))
    if not problems:
        model.load_state_dict({k: torch.from_numpy(v) for k, v in arrays.items()}, strict=True)
    return model, arch, problems


def layer_macs(model, arch):
    """Multiply-adds of one example's forward pass in each convolution and linear layer, in
    the order they run (norms, pooling and activations are not counted)."""
    macs = []

    def hook(mod, inp, out):
        if isinstance(mod, nn.Conv2d):
            macs.append(out[0].numel() * (mod.in_channels // mod.groups) * mod.kernel_size[0] * mod.kernel_size[1])
        else:
            macs.append(mod.in_features * mod.out_features)

    hooks = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        with torch.no_grad():
            if arch["kind"] == "mlp":
                model(torch.zeros(1, arch["input"]))
            else:
                model(torch.zeros(1, arch["channels"], arch["height"], arch["width"]))
    finally:
        for h in hooks:
            h.remove()
    return macs


def main():
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        sys.exit(__doc__.split("\n\n")[-1])
    bad = 0
    for path in sys.argv[1:]:
        model, arch, problems = check_file(path)
        n = sum(p.numel() for p in model.parameters())
        if problems:
            bad += 1
            print("%s: %s: FAILED\n  %s" % (path, arch_string(arch), "\n  ".join(problems)))
            continue
        print("%s: %s: %d tensors, %d parameters, names, shapes and order equal; load_state_dict(strict=True) OK" % (
            path, arch_string(arch), len(model.state_dict()), n))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
