"""tools/reladder_gains.py: a variable-rate model's gains moved onto another ladder."""
import json
import math
import re
import struct

import pytest

from conftest import REPO
from reladder_gains import NAMED_LADDERS, main, read_safetensors, write_safetensors

OLD = [0.01, 0.04, 0.16]  # log-spaced: log 0.04 is halfway between log 0.01 and log 0.16


def model(tmp_path, dtype="F32", ladder=OLD):
    """A model directory with a [3, 2] gain table, its inverse, and one other tensor."""
    code, width = {"F32": ("f", 4), "F16": ("e", 2)}[dtype]
    tensors = {"gain/log_gain": [0.0, 1.0, 1.0, 3.0, 2.0, 4.0],
               "inverse.gain/log_gain": [-1.0, 0.5, -2.0, 0.25, -3.0, 0.0],
               "synthesis/w": [0.1, -0.2, 0.3]}
    header, data = {"__metadata__": {"model.lambdas": ",".join(map(repr, ladder))}}, b""
    for name, values in tensors.items():
        packed = struct.pack(f"<{len(values)}{code}", *values)
        shape = [3, 2] if name.endswith("log_gain") else [3]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(packed)]}
        data += packed
    folder = tmp_path / "model"
    folder.mkdir()
    write_safetensors(str(folder / "weights.safetensors"), header, data)
    (folder / "model.toml").write_text("format = 1\n")
    (folder / "optimizer.safetensors").write_bytes(b"old state")
    return folder


def tensors(path):
    header, data = read_safetensors(str(path))
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        code = {"F32": "f", "F16": "e"}[info["dtype"]]
        begin, end = info["data_offsets"]
        out[name] = list(struct.unpack(f"<{(end - begin) // struct.calcsize(code)}{code}", data[begin:end]))
    return header["__metadata__"], out


def test_gains_are_read_off_the_log_lambda_line(tmp_path):
    source = model(tmp_path)
    # 0.02 is halfway (in log) between levels 0 and 1; 0.005 one half-step below level 0 (extrapolated);
    # 0.64 one full step above the last level.
    assert main([str(source), str(tmp_path / "out"), "--lambdas", "0.005,0.02,0.64"]) == 0
    metadata, moved = tensors(tmp_path / "out" / "weights.safetensors")
    assert metadata["model.lambdas"] == "0.005,0.02,0.64"
    assert moved["gain/log_gain"] == pytest.approx([-0.5, 0.0, 0.5, 2.0, 3.0, 5.0])
    assert moved["inverse.gain/log_gain"] == pytest.approx([-0.5, 0.625, -1.5, 0.375, -4.0, -0.25])
    _, original = tensors(source / "weights.safetensors")
    assert moved["synthesis/w"] == original["synthesis/w"]  # bit for bit
    assert (tmp_path / "out" / "model.toml").read_text() == "format = 1\n"
    assert not (tmp_path / "out" / "optimizer.safetensors").exists()


def test_the_same_ladder_keeps_every_gain(tmp_path):
    source = model(tmp_path, dtype="F16")
    assert main([str(source), str(tmp_path / "out"), "--lambdas", ",".join(map(repr, OLD))]) == 0
    assert tensors(tmp_path / "out" / "weights.safetensors")[1] == tensors(source / "weights.safetensors")[1]


def test_refusals_name_the_problem(tmp_path):
    source = model(tmp_path)
    with pytest.raises(SystemExit, match="3 levels; the new ladder has 2"):
        main([str(source), str(tmp_path / "out"), "--lambdas", "0.01,0.1"])
    with pytest.raises(SystemExit, match="increasing"):
        main([str(source), str(tmp_path / "out"), "--lambdas", "0.1,0.01,0.2"])
    with pytest.raises(SystemExit, match="must differ"):
        main([str(source), str(source), "--lambdas", "wide"])
    header, data = read_safetensors(str(source / "weights.safetensors"))
    del header["__metadata__"]
    write_safetensors(str(source / "weights.safetensors"), header, data)
    with pytest.raises(SystemExit, match="not a variable-rate model"):
        main([str(source), str(tmp_path / "out"), "--lambdas", "0.01,0.02,0.03"])
    (source / "weights.safetensors").write_bytes(b"\xff" * 4)
    with pytest.raises(SystemExit, match="too short"):
        main([str(source), str(tmp_path / "out"), "--lambdas", "0.01,0.02,0.03"])


def test_named_ladders_are_lic_trains():
    """`--lambdas standard|wide` means here what it means to lic train (RateLevels.swift)."""
    swift = (REPO / "Sources/LICCore/Graph/RateLevels.swift").read_text()
    for name in NAMED_LADDERS:
        found = re.search(rf"static let {name}Ladder = \[([^\]]*)\]", swift)
        assert found, name
        assert [float(v) for v in found.group(1).split(",")] == NAMED_LADDERS[name]
    wide = NAMED_LADDERS["wide"]
    ratio = (wide[-1] / wide[0]) ** (1 / 7)
    assert all(math.isclose(b / a, ratio, rel_tol=1e-4) for a, b in zip(wide, wide[1:]))
