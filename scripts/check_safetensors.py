#!/usr/bin/env python3
"""Check stackgrad's safetensors files with numpy alone.

For every NAME.safetensors in the directory (default target/interop) that has a
NAME_io.safetensors beside it, parse both files by hand (8-byte little-endian
header length, JSON header, raw little-endian data), rebuild the network's
forward pass from the layer kinds in __metadata__["layers"] (e.g.
"dense,sigmoid,dense": layer i of kind dense computes h @ W_i + b_i with tensors
"i.weight" [inputs, outputs] and "i.bias" [outputs]), run it on io's "x" and
compare with io's "y" (the Rust network's output). Exit status 1 on any
mismatch or when no file is found.

Written by `cargo run --release --example 05_weights_interop`.
"""
import json
import pathlib
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64}


def read_safetensors(path):
    raw = pathlib.Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    data = raw[8 + n :]
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = np.dtype(DTYPES[info["dtype"]]).newbyteorder("<")
        arr = np.frombuffer(data[begin:end], dtype=dtype).reshape(info["shape"])
        tensors[name] = arr
    return tensors, meta


def sigmoid(h):
    # The stable two-branch form (no overflow warning for large |h|).
    out = np.empty_like(h)
    pos = h >= 0
    out[pos] = 1 / (1 + np.exp(-h[pos]))
    e = np.exp(h[~pos])
    out[~pos] = e / (1 + e)
    return out


def softmax(h):
    e = np.exp(h - h.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


ACTIVATIONS = {
    "sigmoid": sigmoid,
    "relu": lambda h: np.maximum(h, 0),
    "tanh": np.tanh,
    "identity": lambda h: h,
    "softmax": softmax,
}


def forward(weights, layers, x):
    h = x
    for i, kind in enumerate(layers):
        if kind == "dense":
            h = h @ weights[f"{i}.weight"] + weights[f"{i}.bias"]
        else:
            h = ACTIVATIONS[kind](h)
    return h


def check(model_path, io_path):
    weights, meta = read_safetensors(model_path)
    io, _ = read_safetensors(io_path)
    layers = meta["layers"].split(",")
    x, y = io["x"], io["y"]
    got = forward(weights, layers, x)
    dtype = got.dtype
    # f64: agreement to rounding; f32: a few ulps per dot product of <= 64 terms.
    tol = 1e-12 if dtype == np.float64 else 1e-5
    scale = max(1.0, float(np.abs(y).max()))
    err = float(np.abs(got.astype(np.float64) - y.astype(np.float64)).max()) / scale
    params = sum(w.size for w in weights.values())
    ok = got.shape == y.shape and err <= tol
    print(
        f"{model_path.name}: {layers}, {params} parameters ({dtype}), "
        f"input {list(x.shape)}, max relative difference {err:.2e} (tolerance {tol:.0e}): "
        + ("OK" if ok else "MISMATCH")
    )
    return ok


def main():
    folder = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/interop")
    pairs = [
        (p, p.with_name(p.stem + "_io.safetensors"))
        for p in sorted(folder.glob("*.safetensors"))
        if not p.stem.endswith("_io")
    ]
    pairs = [(m, io) for m, io in pairs if io.exists()]
    if not pairs:
        print(f"no NAME.safetensors + NAME_io.safetensors pairs in {folder}")
        return 1
    results = [check(m, io) for m, io in pairs]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
