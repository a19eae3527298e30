"""What a script run by a modulo command stage needs, with numpy alone.

modulo hands a command its inputs as files and reads back the files it writes:

* datasets: a directory of .npy arrays, train_x.npy / test_x.npy (float32, N×C×H×W for
  images, N×D otherwise: exactly what modulo's own stages feed a network, after the
  dataset block's options), train_y.npy / test_y.npy (int64 labels) and dataset.json;
* networks: safetensors files whose tensors carry PyTorch state_dict names;
* tables: CSV (and JSON); any other value: JSON.

$MODULO_INPUT_<NAME> and $MODULO_OUTPUT_<NAME> give the paths, $MODULO_MANIFEST a JSON file
listing all of them (with each network output's architecture and tensor names), and
$MODULO_THREADS the cores the node was given.

Debian's python3-torch has no safetensors package, so this module reads and writes the
format itself: an 8-byte little-endian header length, a JSON header, then the raw tensors.
"""

import json
import os
import struct

import numpy as np

_DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64,
           "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}
_NAMES = {np.dtype(v): k for k, v in _DTYPES.items()}


def manifest():
    """The command's manifest: inputs, outputs (with a network's architecture), threads."""
    with open(os.environ["MODULO_MANIFEST"]) as f:
        return json.load(f)


def input_path(name):
    """The path of input name (a file, or a directory for a dataset or a sequence)."""
    return os.environ["MODULO_INPUT_" + name.upper()]


def output_path(name):
    """Where output name is to be written; its directory exists."""
    return os.environ["MODULO_OUTPUT_" + name.upper()]


def threads():
    return int(os.environ.get("MODULO_THREADS", "1"))


def load_dataset(name):
    """(train_x, train_y, test_x, test_y, info) of dataset input name, as numpy arrays."""
    d = input_path(name)
    arrays = [np.load(os.path.join(d, f + ".npy")) for f in ("train_x", "train_y", "test_x", "test_y")]
    with open(os.path.join(d, "dataset.json")) as f:
        info = json.load(f)
    return (*arrays, info)


def save_safetensors(path, tensors, metadata=None):
    """Writes tensors (name → numpy array or torch tensor) as a safetensors file."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name]
        if hasattr(t, "detach"):  # a torch tensor
            t = t.detach().cpu().contiguous().numpy()
        a = np.ascontiguousarray(t)
        b = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _NAMES[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)  # a crash leaves no half-written output behind


def load_safetensors(path):
    """(tensors, metadata) of a safetensors file: name → numpy array, and a dict."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    metadata = header.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    for name, e in header.items():
        start, end = e["data_offsets"]
        dt = np.dtype(_DTYPES[e["dtype"]]).newbyteorder("<")
        tensors[name] = np.frombuffer(raw[base + start:base + end], dtype=dt).reshape(e["shape"]).copy()
    return tensors, metadata
