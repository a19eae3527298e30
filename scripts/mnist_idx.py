"""MNIST from IDX files, read the way modulo reads them (nn/data): the four files of a
directory under LeCun's names (t10k or test, gzipped or not), pixels scaled to [0,1] as
float32(x)/255 correctly rounded (a 256-entry table, as modulo's byteScale), labels as
int64 for torch.nn.CrossEntropyLoss. Used by bench_train.py and crosscheck.py."""

import gzip
import os
import struct

import numpy as np


def _find(dirname, split, kind, dims):
    prefixes = ["train"] if split == "train" else ["t10k", "test"]
    names = []
    for p in prefixes:
        for sep in ("-", "."):
            base = "%s-%s%sidx%d-ubyte" % (p, kind, sep, dims)
            names += [base, base + ".gz"]
    for n in names:
        path = os.path.join(dirname, n)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError("%s has no %s %s file (looked for %s)" % (dirname, split, kind, ", ".join(names)))


def read_idx(path):
    """Return the dimensions and the raw uint8 data of an IDX file (gzipped or not)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError("%s: not an unsigned-byte IDX file" % path)
    ndim = raw[3]
    dims = struct.unpack(">%dI" % ndim, raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError("%s: %d bytes of data for dimensions %s" % (path, data.size, dims))
    return dims, data


SCALE = np.arange(256, dtype=np.float32) / np.float32(255)


def load_split(dirname, split):
    """Return (X float32 N×D in [0,1], Y int64 N) of split "train" or "test"."""
    dims, img = read_idx(_find(dirname, split, "images", 3))
    ldims, lbl = read_idx(_find(dirname, split, "labels", 1))
    if dims[0] != ldims[0]:
        raise ValueError("%s split: %d images but %d labels" % (split, dims[0], ldims[0]))
    x = SCALE[img].reshape(dims[0], dims[1] * dims[2])
    return x, lbl.astype(np.int64)
