#!/usr/bin/env python3
"""Move a variable-rate model onto another lambda ladder before training it on.

A gain-unit model (lic.transform.gain) keeps one row of log-gains per rate
level, trained for that level's lambda; the weights' metadata records the
ladder ("model.lambdas"), and `lic train --init` refuses a different one.
This tool writes a copy of MODEL whose gain tables are re-sampled at NEW
lambdas: each channel's log-gain is taken as a piecewise linear function of
log(lambda) through the trained levels (extended linearly past the first and
last ones) and read off at the new ladder; the metadata records the new
ladder. Every other tensor is copied bit for bit. Training from the copy
(`lic train --init OUT --lambdas NEW`) then only has to refine the gains.

The shipped model's run 5 started this way: run 4's weights, from the
standard ladder (0.0018 ... 0.18) to `wide` (0.0009 ... 0.13).

    python3 tools/reladder_gains.py models/mbt2018-mean-vr /tmp/wide --lambdas wide

Standard library only (safetensors is read and written here; float16 by
struct's "e" format). The ladder count must stay the same: the descriptor's
`levels` is not rewritten.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import struct
import sys

# The ladders `lic train --lambdas` knows by name; they mirror RateLevels.swift
# (a test compares them with the Swift source).
NAMED_LADDERS = {
    "standard": [0.0018, 0.0035, 0.0067, 0.0130, 0.0250, 0.0483, 0.0932, 0.1800],
    "wide": [0.0009, 0.0018313, 0.0037265, 0.0075828, 0.01543, 0.031397, 0.063887, 0.13],
}
FORMATS = {"F32": ("f", 4), "F16": ("e", 2)}
LADDER_KEY = "model.lambdas"
# Files of a model directory the copy keeps (weights are rewritten; optimizer
# state belongs to the old ladder and is left behind).
KEPT_FILES = ("model.toml", "coding-tables.bin", "train.jsonl")


def parse_ladder(text: str, what: str = "--lambdas") -> list:
    """A named ladder or a comma-separated list, read as lic train reads it
    (empty parts skipped; plain decimal numbers only)."""
    if text in NAMED_LADDERS:
        return list(NAMED_LADDERS[text])
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts or any(not re.fullmatch(r"[0-9.eE+-]+", part) for part in parts):
        raise SystemExit(f"{what}: '{text}' is not {', '.join(NAMED_LADDERS)} or a comma-separated list of numbers")
    try:
        values = [float(part) for part in parts]
    except ValueError:
        raise SystemExit(f"{what}: '{text}' is not {', '.join(NAMED_LADDERS)} or a comma-separated list of numbers")
    if len(values) < 2 or any(not (v > 0 and math.isfinite(v)) for v in values) or any(b <= a for a, b in zip(values, values[1:])):
        raise SystemExit(f"{what}: a ladder needs at least two positive, increasing lambdas, got {text}")
    return values


def ladder_text(values: list) -> str:
    """As RateLevels.text writes it (shortest round-trip decimals)."""
    return ",".join(repr(v) for v in values)


def read_safetensors(path: str):
    try:
        with open(path, "rb") as handle:
            blob = handle.read()
    except OSError as error:
        raise SystemExit(f"{path}: cannot read ({error.strerror})")
    if len(blob) < 8:
        raise SystemExit(f"{path}: too short for a safetensors file")
    (size,) = struct.unpack("<Q", blob[:8])
    if 8 + size > len(blob):
        raise SystemExit(f"{path}: the header says {size} bytes, the file has {len(blob) - 8} after its length")
    try:
        header = json.loads(blob[8:8 + size])
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SystemExit(f"{path}: the header is not JSON ({error})")
    return header, blob[8 + size:]


def positions(old: list, new: list) -> list:
    """Each new lambda as (segment, t): log(lambda) = log(old[s]) + t * (log(old[s + 1]) - log(old[s])),
    t outside [0, 1] only past the ends (linear extrapolation)."""
    xs = [math.log(v) for v in old]
    out = []
    for target in new:
        x = math.log(target)
        segment = 0
        while segment < len(xs) - 2 and x > xs[segment + 1]:
            segment += 1
        out.append((segment, (x - xs[segment]) / (xs[segment + 1] - xs[segment])))
    return out


def resample(rows: list, old: list, new: list) -> list:
    """rows[level][channel] at the old lambdas -> rows at the new ones."""
    return [[a + t * (b - a) for a, b in zip(rows[segment], rows[segment + 1])] for segment, t in positions(old, new)]


def reladder(header: dict, data: bytes, new: list, source: str):
    metadata = header.get("__metadata__") or {}
    if LADDER_KEY not in metadata:
        raise SystemExit(f"{source}: no {LADDER_KEY} in the metadata: not a variable-rate model")
    old = parse_ladder(metadata[LADDER_KEY], what=f"{source}: metadata {LADDER_KEY}")
    if len(new) != len(old):
        raise SystemExit(f"{source}: the model has {len(old)} levels; the new ladder has {len(new)} (the count must stay)")
    data = bytearray(data)
    changed = []
    for name, info in header.items():
        if name == "__metadata__" or not (name == "log_gain" or name.endswith("/log_gain")):
            continue
        try:
            shape, dtype, (begin, end) = info["shape"], info["dtype"], info["data_offsets"]
        except (KeyError, TypeError, ValueError):
            raise SystemExit(f"{source}: {name}: the header entry needs dtype, shape and two data_offsets")
        if dtype not in FORMATS or len(shape) != 2 or shape[0] != len(old):
            raise SystemExit(f"{source}: {name} is {dtype} {shape}; expected F16 or F32 [{len(old)}, channels]")
        code, width = FORMATS[dtype]
        levels, channels = shape
        if not (0 <= begin <= end <= len(data)) or end - begin != levels * channels * width:
            raise SystemExit(f"{source}: {name}: data_offsets {begin}..{end} do not hold {levels}x{channels} {dtype} values")
        values = struct.unpack(f"<{levels * channels}{code}", data[begin:end])
        rows = [list(values[level * channels:(level + 1) * channels]) for level in range(levels)]
        flat = [v for row in resample(rows, old, new) for v in row]
        try:
            data[begin:end] = struct.pack(f"<{levels * channels}{code}", *flat)
        except OverflowError:
            raise SystemExit(f"{source}: {name}: the new ladder reaches log-gains {dtype} cannot hold")
        changed.append(name)
    if not changed:
        raise SystemExit(f"{source}: no [levels, channels] log_gain tensors (lic.transform.gain) to move")
    header = dict(header)
    header["__metadata__"] = dict(metadata, **{LADDER_KEY: ladder_text(new)})
    return header, bytes(data), changed, old


def write_safetensors(path: str, header: dict, data: bytes) -> None:
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the data stays 8-byte aligned
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(text)) + text + data)


def describe_extrapolation(old: list, new: list) -> list:
    """Lines naming the new lambdas that lie past the trained ones (their gains are extrapolated)."""
    lines = []
    for level, (lam, (segment, t)) in enumerate(zip(new, positions(old, new))):
        beyond = -t if t < 0 else t - 1 if t > 1 else 0
        if beyond > 0:
            side = "below the lowest" if t < 0 else "above the highest"
            lines.append(f"level {level} (lambda {lam!r}) is {beyond:.2f} of a level step {side} trained lambda: "
                         "its gains are extrapolated; training must settle them")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="a variable-rate model directory (weights.safetensors with model.lambdas)")
    parser.add_argument("out", help="the directory to write (created; must not be the model's)")
    parser.add_argument("--lambdas", required=True, help="the new ladder: standard, wide or L1,L2,... (as lic train takes it)")
    args = parser.parse_args(argv)
    if os.path.realpath(args.model) == os.path.realpath(args.out):
        raise SystemExit("reladder_gains: OUT must differ from MODEL")
    new = parse_ladder(args.lambdas)
    source = os.path.join(args.model, "weights.safetensors")
    header, data = read_safetensors(source)
    header, data, changed, old = reladder(header, data, new, source)
    # A fresh directory: files left in an old one (coding tables, optimizer state) would belong to other weights.
    if os.path.exists(args.out) and (not os.path.isdir(args.out) or os.listdir(args.out)):
        raise SystemExit(f"reladder_gains: {args.out} exists and is not an empty directory")
    os.makedirs(args.out, exist_ok=True)
    for name in KEPT_FILES:
        if os.path.exists(os.path.join(args.model, name)):
            shutil.copyfile(os.path.join(args.model, name), os.path.join(args.out, name))
    write_safetensors(os.path.join(args.out, "weights.safetensors"), header, data)
    for line in describe_extrapolation(old, new):
        print(f"reladder_gains: {line}", file=sys.stderr)
    print(f"{args.out}: {', '.join(changed)} moved to lambdas {ladder_text(new)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
