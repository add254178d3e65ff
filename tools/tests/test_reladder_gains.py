"""tools/reladder_gains.py: a variable-rate model's gains moved onto another ladder."""
import json
import math
import re
import struct

import pytest

from conftest import REPO
from reladder_gains import NAMED_LADDERS, main, parse_ladder, read_safetensors, write_safetensors

OLD = [0.01, 0.04, 0.16]  # log-spaced: log 0.04 is halfway between log 0.01 and log 0.16


def model(tmp_path, dtype="F32", ladder=OLD, gain=(0.0, 1.0, 1.0, 3.0, 2.0, 4.0), gain_name="gain/log_gain"):
    """A model directory with a [3, 2] gain table, its inverse, and one other tensor."""
    code, width = {"F32": ("f", 4), "F16": ("e", 2)}[dtype]
    tensors = {gain_name: list(gain),
               "inverse.gain/log_gain": [-1.0, 0.5, -2.0, 0.25, -3.0, 0.0],
               "synthesis/w": [0.1, -0.2, 0.3]}
    header, data = {"__metadata__": {"model.lambdas": ",".join(map(repr, ladder))}}, b""
    for name, values in tensors.items():
        packed = struct.pack(f"<{len(values)}{code}", *values)
        shape = [3, 2] if name.endswith("log_gain") else [3]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(packed)]}
        data += packed
    folder = tmp_path / "model"
    folder.mkdir(parents=True)
    write_safetensors(str(folder / "weights.safetensors"), header, data)
    (folder / "model.toml").write_text("format = 1\n")
    (folder / "coding-tables.bin").write_bytes(b"tables")
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


def test_gains_are_read_off_the_log_lambda_line(tmp_path, capsys):
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
    assert (tmp_path / "out" / "coding-tables.bin").read_bytes() == b"tables"  # entropy stages only: gains do not enter them
    assert not (tmp_path / "out" / "optimizer.safetensors").exists()
    # As lic's reader demands: offsets contiguous from 0, the last one at the end of the file, an 8-byte aligned header.
    header, data = read_safetensors(str(tmp_path / "out" / "weights.safetensors"))
    spans = sorted(info["data_offsets"] for name, info in header.items() if name != "__metadata__")
    assert spans[0][0] == 0 and spans[-1][1] == len(data) and all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    assert (tmp_path / "out" / "weights.safetensors").stat().st_size % 8 == (len(data) % 8)
    # Levels past the trained ladder are named: 0.005 half a step below, 0.64 one step above.
    err = capsys.readouterr().err
    assert "level 0 (lambda 0.005) is 0.50 of a level step below" in err and "level 2 (lambda 0.64) is 1.00" in err
    assert "level 1" not in err


def test_the_same_ladder_keeps_every_gain(tmp_path):
    source = model(tmp_path, dtype="F16")
    assert main([str(source), str(tmp_path / "out"), "--lambdas", ",".join(map(repr, OLD))]) == 0
    assert tensors(tmp_path / "out" / "weights.safetensors")[1] == tensors(source / "weights.safetensors")[1]


def test_refusals_name_the_problem(tmp_path):
    source = model(tmp_path)
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "coding-tables.bin").write_bytes(b"other weights' tables")
    with pytest.raises(SystemExit, match="not an empty directory"):
        main([str(source), str(tmp_path / "used"), "--lambdas", "0.01,0.02,0.03"])
    with pytest.raises(SystemExit, match="comma-separated list"):
        main([str(source), str(tmp_path / "out"), "--lambdas", "0.01,1_0,2_0"])
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


def test_damaged_or_foreign_models_are_refused(tmp_path):
    # Log-gains float16 cannot hold after extrapolating far below the ladder.
    steep = model(tmp_path / "a", dtype="F16", gain=(0.0, 0.0, 60000.0, 0.0, 60000.0, 0.0))
    with pytest.raises(SystemExit, match="cannot hold"):
        main([str(steep), str(tmp_path / "a" / "out"), "--lambdas", "0.0001,0.04,0.16"])
    # A tensor merely ending in the name is not a gain table; with none left there is nothing to move.
    foreign = model(tmp_path / "b", gain_name="foo_log_gain")
    header, data = read_safetensors(str(foreign / "weights.safetensors"))
    del header["inverse.gain/log_gain"]
    write_safetensors(str(foreign / "weights.safetensors"), header, data)
    with pytest.raises(SystemExit, match="no \\[levels, channels\\] log_gain"):
        main([str(foreign), str(tmp_path / "b" / "out"), "--lambdas", "0.01,0.02,0.03"])
    # A gain table whose span does not hold its shape, and a ladder in the metadata that is not one.
    short = model(tmp_path / "c")
    header, data = read_safetensors(str(short / "weights.safetensors"))
    header["gain/log_gain"]["data_offsets"][1] -= 4
    write_safetensors(str(short / "weights.safetensors"), header, data)
    with pytest.raises(SystemExit, match="do not hold 3x2 F32"):
        main([str(short), str(tmp_path / "c" / "out"), "--lambdas", "0.01,0.02,0.03"])
    header["__metadata__"]["model.lambdas"] = "fast"
    write_safetensors(str(short / "weights.safetensors"), header, data)
    with pytest.raises(SystemExit, match="metadata model.lambdas: 'fast'"):
        main([str(short), str(tmp_path / "c" / "out"), "--lambdas", "0.01,0.02,0.03"])


def test_ladders_read_as_lic_train_reads_them():
    assert parse_ladder("0.01, 0.02,") == [0.01, 0.02]  # Swift's split drops empty parts too
    assert parse_ladder("wide") == NAMED_LADDERS["wide"]


def test_named_ladders_are_lic_trains():
    """`--lambdas standard|wide` means here what it means to lic train (RateLevels.swift)."""
    swift = (REPO / "Sources/LICCore/Graph/RateLevels.swift").read_text()
    names = re.search(r"static let namedLadders = \[([^\]]*)\]", swift)
    assert names and set(re.findall(r'"(\w+)":', names.group(1))) == set(NAMED_LADDERS)
    for name in NAMED_LADDERS:
        found = re.search(rf"static let {name}Ladder = \[([^\]]*)\]", swift)
        assert found, name
        assert [float(v) for v in found.group(1).split(",")] == NAMED_LADDERS[name]
    wide = NAMED_LADDERS["wide"]
    ratio = (wide[-1] / wide[0]) ** (1 / 7)
    assert all(math.isclose(b / a, ratio, rel_tol=1e-4) for a, b in zip(wide, wide[1:]))
