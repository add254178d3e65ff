"""tools/continue_train_log.py: a --init run's log joined onto its model's log."""
import json

import pytest

from continue_train_log import join, main, read


def write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(path)


def test_offsets_steps_and_seconds_and_numbers_the_run(tmp_path):
    previous = [{"step": 50, "elapsed_s": 30.0, "psnr": 20.0}, {"step": 100, "elapsed_s": 60.0, "psnr": 21.0, "run": 2}]
    new = [{"step": s, "elapsed_s": s * 0.5, "psnr": 22.0} for s in range(10, 131, 10)]
    joined = join(previous, new, every=50)
    assert joined[:2] == previous
    added = joined[2:]
    # Every 50 steps after the offset (150, 200), and the new run's last record (230).
    assert [r["step"] for r in added] == [150, 200, 230]
    assert [r["elapsed_s"] for r in added] == [85.0, 110.0, 125.0]
    assert all(r["run"] == 3 for r in added)


def test_a_log_without_runs_counts_as_run_one(tmp_path, capsys):
    previous = write(tmp_path / "a.jsonl", [{"step": 5, "elapsed_s": 1.0}])
    new = write(tmp_path / "b.jsonl", [{"step": 1, "elapsed_s": 0.5}])
    assert main([previous, new, "--every", "1"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[-1] == {"step": 6, "elapsed_s": 1.5, "run": 2}


def test_bad_lines_name_the_file_and_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"step": 1, "elapsed_s": 0}\nnot json\n')
    with pytest.raises(SystemExit, match="bad.jsonl:2"):
        read(str(bad))
    missing = write(tmp_path / "m.jsonl", [{"step": 1}])
    with pytest.raises(SystemExit, match="m.jsonl:1: .*elapsed_s"):
        read(missing)
