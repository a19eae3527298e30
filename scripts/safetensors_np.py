"""A pure-Python safetensors reader and writer (the Python safetensors package is not in
Debian), shared by the cross-check scripts."""

import json
import struct

import numpy as np

NP_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4",
             "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?"}


def read_safetensors(path):
    """Return ({name: numpy array}, metadata, {name: dtype string}) of a safetensors file:
    8-byte little-endian header length, JSON header (name -> dtype, shape, data_offsets,
    plus "__metadata__"), raw little-endian data. The dicts are in the order of the tensors'
    data, which is the state-dict order for a network modulo wrote (its header's keys are
    sorted, so "blocks.10" would come before "blocks.2" in header order)."""
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
    for name, h in sorted(header.items(), key=lambda e: tuple(e[1].get("data_offsets") or ())):
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


def write_safetensors(path, tensors, metadata=None):
    """Write {name: numpy array} (in that order, no gaps) and metadata {str: str} as a
    safetensors file laid out as modulo's nn.EncodeSafetensors does: a compact JSON header
    with sorted names, padded with spaces so the data starts 8-byte aligned. For ASCII names
    and metadata the bytes equal modulo's for the same tensors."""
    dtypes = {np.dtype(v).str: k for k, v in NP_DTYPES.items()}
    entries, chunks, offset = {}, [], 0
    if metadata:
        entries["__metadata__"] = {str(k): str(metadata[k]) for k in sorted(metadata)}
    for name, a in tensors.items():
        a = np.asarray(a)
        dt = a.dtype.newbyteorder("<") if a.dtype.itemsize > 1 else a.dtype
        if dt.str not in dtypes:
            raise ValueError("tensor %s has dtype %s, which safetensors has no name for here" % (name, a.dtype))
        raw = np.ascontiguousarray(a, dtype=dt).tobytes()
        entries[name] = {"dtype": dtypes[dt.str], "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    # As Go's encoding/json writes them: map keys sorted, each entry's fields in the order
    # dtype, shape, data_offsets (a struct's), and <, > and & escaped in strings.
    entries = {k: entries[k] for k in sorted(entries)}
    h = json.dumps(entries, separators=(",", ":"), ensure_ascii=False)
    h = h.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for c in chunks:
            f.write(c)
