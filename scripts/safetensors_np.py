"""A pure-Python safetensors reader (the Python safetensors package is not in Debian), shared
by the cross-check scripts."""

import json
import struct

import numpy as np

NP_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4",
             "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?"}


def read_safetensors(path):
    """Return ({name: numpy array}, metadata, {name: dtype string}) of a safetensors file:
    8-byte little-endian header length, JSON header (name -> dtype, shape, data_offsets,
    plus "__metadata__"), raw little-endian data."""
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 8:
        raise ValueError("%s: too short for a safetensors file" % path)
    (hlen,) = struct.unpack("<Q", buf[:8])
    if 8 + hlen > len(buf):
        raise ValueError("%s: header length %d exceeds the file" % (path, hlen))
    header = json.loads(buf[8:8 + hlen].decode("utf-8"))
    metadata = header.pop("__metadata__", {}) or {}
    data = buf[8 + hlen:]
    tensors, dtypes = {}, {}
    for name, h in header.items():
        if h["dtype"] not in NP_DTYPES:
            raise ValueError("%s: tensor %s has unsupported dtype %s" % (path, name, h["dtype"]))
        dt = np.dtype(NP_DTYPES[h["dtype"]])
        shape = tuple(h["shape"])
        start, end = h["data_offsets"]
        count = int(np.prod(shape)) if shape else 1
        if not 0 <= start <= end <= len(data) or end - start != count * dt.itemsize:
            raise ValueError("%s: tensor %s has offsets %s for %s %s" % (path, name, h["data_offsets"], h["dtype"], list(shape)))
        a = np.frombuffer(data, dtype=dt, count=count, offset=start).reshape(shape)
        tensors[name] = a.astype(dt.newbyteorder("="))  # native order, writable copy
        dtypes[name] = h["dtype"]
    return tensors, metadata, dtypes
