"""tools/learning_curve.py: train.jsonl -> learning-curve.svg, .md and .json."""
import json
import pathlib
import random
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import pytest

import learning_curve
from learning_curve import LogError, main, read_log, smooth, summarize

TOOLS = pathlib.Path(__file__).resolve().parents[1]

SVG = "{http://www.w3.org/2000/svg}"
LAMBDAS = {0: 0.0018, 1: 0.013}


def record(step, elapsed, psnr, bpp, level=None, lam=None, lr=1e-3, **extra):
    """A line as `lic train` writes it (rate_level and lambda left out when None)."""
    obj = {"aux_loss": 10.0, "bpp": bpp, "elapsed_s": elapsed, "learning_rate": lr, "loss": 1.0, "mse": 0.01,
           "psnr": psnr, "step": step, "terms": {"distortion": 0.01, "rate": bpp}}
    if level is not None:
        obj["rate_level"] = level
    if lam is not None:
        obj["lambda"] = lam
    obj.update(extra)
    return obj


def write_log(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def variable_rate_log(tmp_path, count=60):
    rng = random.Random(7)
    records = []
    for index in range(1, count + 1):
        level = rng.randrange(2)
        records.append(record(50 * index, 30.0 * index, 20 + 5 * level + index / 10 + rng.random(),
                              0.3 + 0.5 * level + rng.random() / 10, level=level, lam=LAMBDAS[level],
                              lr=1e-3 * min(1.0, index / 10)))
    (tmp_path / "vr").mkdir()
    return write_log(tmp_path / "vr" / "train.jsonl", records)


def one_rate_log(tmp_path, with_lambda=True, with_lr=True):
    folder = tmp_path / ("one" if with_lambda else "old")
    folder.mkdir()
    records = []
    for index in range(1, 21):
        obj = record(10 * index, 400.0 * index, 25 + index / 5, 0.8 - index / 100,
                     level=None, lam=0.013 if with_lambda else None)
        if with_lambda:
            obj["rate_level"] = None      # a one-rate model logs rate_level: null
        if not with_lr:
            del obj["learning_rate"]
        records.append(obj)
    return write_log(folder / "train.jsonl", records)


def run(log, out, *extra):
    return main([str(log), "--out", str(out), *extra])


def svg_curves(root, panel):
    group = root.find(f"{SVG}g[@id='panel-{panel}']")
    assert group is not None, panel
    return group.findall(f".//{SVG}polyline[@class='curve']")


def table_rows(markdown):
    lines = [line for line in markdown.splitlines() if line.startswith("|")]
    return lines[2:]   # header and alignment rows first


def test_two_levels_write_svg_markdown_and_json(tmp_path, capsys):
    log = variable_rate_log(tmp_path)
    out = tmp_path / "report"
    assert run(log, out, "--title", "VR <test> & co") == 0
    assert "wrote" in capsys.readouterr().out
    for name in ("learning-curve.svg", "learning-curve.md", "learning-curve.json"):
        assert (out / name).is_file()

    root = ElementTree.parse(out / "learning-curve.svg").getroot()
    assert root.tag == SVG + "svg"
    assert root.find(f"{SVG}title").text == "VR <test> & co"
    labels = ["level 0 (λ=0.0018)", "level 1 (λ=0.013)"]
    for panel in ("psnr", "bpp"):
        curves = svg_curves(root, panel)
        assert [c.get("data-label") for c in curves] == labels
        assert len({c.get("stroke") for c in curves}) == 2
    legend = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "legend-label"]
    assert legend == labels
    lr = svg_curves(root, "learning-rate")
    assert len(lr) == 1 and lr[0].get("stroke") == learning_curve.LR_COLOUR
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "training time (minutes)" in texts      # 1800 s: minutes

    markdown = (out / "learning-curve.md").read_text(encoding="utf-8")
    rows = table_rows(markdown)
    assert len(rows) == 2
    assert rows[0].startswith("| 0 | 0.0018 |") and rows[1].startswith("| 1 | 0.013 |")
    assert "Total: 3000 steps, 0.50 hours" in markdown and "1.67 steps/s overall" in markdown

    report = json.loads((out / "learning-curve.json").read_text(encoding="utf-8"))
    assert report["total_steps"] == 3000 and report["total_seconds"] == 1800.0
    assert report["steps_per_second"] == pytest.approx(3000 / 1800)
    assert report["variable_rate"] is True and report["window"] == 8
    assert [level["level"] for level in report["levels"]] == [0, 1]
    assert [level["lambda"] for level in report["levels"]] == [0.0018, 0.013]
    assert sum(level["points"] for level in report["levels"]) == 60
    for level in report["levels"]:
        assert [a["fraction"] for a in level["at"]] == [0.25, 0.5, 0.75, 1.0]
        assert all(a["step"] % 50 == 0 for a in level["at"])


@pytest.mark.parametrize("with_lambda", [True, False])
def test_one_rate_and_old_logs_have_one_line(tmp_path, with_lambda):
    log = one_rate_log(tmp_path, with_lambda=with_lambda)
    out = tmp_path / "report"
    assert run(log, out) == 0
    root = ElementTree.parse(out / "learning-curve.svg").getroot()
    label = "one rate (λ=0.013)" if with_lambda else "one rate"
    for panel in ("psnr", "bpp"):
        curves = svg_curves(root, panel)
        assert [c.get("data-label") for c in curves] == [label]
    assert [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "legend-label"] == [label]
    assert "training time (hours)" in [t.text for t in root.iter(f"{SVG}text")]   # 8000 s: hours
    rows = table_rows((out / "learning-curve.md").read_text(encoding="utf-8"))
    assert len(rows) == 1 and rows[0].startswith("| one rate | " + ("0.013" if with_lambda else "-") + " | 20 |")
    report = json.loads((out / "learning-curve.json").read_text(encoding="utf-8"))
    assert report["variable_rate"] is False
    assert [level["level"] for level in report["levels"]] == [None]


def test_log_without_learning_rate_has_no_learning_rate_panel(tmp_path):
    out = tmp_path / "report"
    assert run(one_rate_log(tmp_path, with_lambda=False, with_lr=False), out) == 0
    root = ElementTree.parse(out / "learning-curve.svg").getroot()
    assert root.find(f"{SVG}g[@id='panel-learning-rate']") is None
    assert len(svg_curves(root, "psnr")) == 1


def test_trailing_moving_average():
    assert smooth([1.0, 2.0, 3.0, 4.0, 5.0], 3) == pytest.approx([1.0, 1.5, 2.0, 3.0, 4.0])
    assert smooth([4.0, 8.0], 1) == [4.0, 8.0]
    assert smooth([4.0, 8.0, 6.0], 10) == pytest.approx([4.0, 6.0, 6.0])


def test_smoothing_per_level_and_checkpoints_by_hand(tmp_path):
    """Window 2; level 0 at t=100,300,500,600 and level 1 at t=200,400,700 (run time 700 s,
    so 25/50/75/100 % are 175, 350, 525, 700 s)."""
    rows = [(50, 100, 10, 0.1, 0), (100, 200, 30, 1.0, 1), (150, 300, 12, 0.3, 0), (200, 400, 34, 1.2, 1),
            (250, 500, 14, 0.2, 0), (300, 600, 20, 0.4, 0), (350, 700, 32, 1.4, 1)]
    log = write_log(tmp_path / "train.jsonl",
                    [record(s, t, p, b, level=lv, lam=LAMBDAS[lv]) for s, t, p, b, lv in rows])
    records, superseded = read_log(str(log))
    summary = summarize(str(log), records, superseded, 2, "t")
    series = summary["_series"]
    assert series[0]["psnr_smooth"] == pytest.approx([10, 11, 13, 17])
    assert series[0]["bpp_smooth"] == pytest.approx([0.1, 0.2, 0.25, 0.3])
    assert series[1]["psnr_smooth"] == pytest.approx([30, 32, 33])
    assert series[1]["bpp_smooth"] == pytest.approx([1.0, 1.1, 1.3])
    level0, level1 = summary["levels"]
    assert [a["step"] for a in level0["at"]] == [50, 150, 250, 300]
    assert [a["psnr"] for a in level0["at"]] == pytest.approx([10, 11, 13, 17])
    assert [a["bpp"] for a in level0["at"]] == pytest.approx([0.1, 0.2, 0.25, 0.3])
    assert [a["step"] for a in level1["at"]] == [100, 200, 200, 350]   # 525 s: 400 is nearer than 700
    assert [a["psnr"] for a in level1["at"]] == pytest.approx([30, 32, 32, 33])
    assert (summary["total_steps"], summary["total_seconds"], summary["steps_per_second"]) == (350, 700, 0.5)

    out = tmp_path / "report"
    assert run(log, out, "--window", "2") == 0
    markdown_rows = table_rows((out / "learning-curve.md").read_text(encoding="utf-8"))
    assert markdown_rows[0] == ("| 0 | 0.0018 | 4 | 10.00 | 11.00 | 13.00 | 17.00 | "
                                "0.1000 | 0.2000 | 0.2500 | 0.3000 |")
    assert markdown_rows[1] == ("| 1 | 0.013 | 3 | 30.00 | 32.00 | 32.00 | 33.00 | "
                                "1.0000 | 1.1000 | 1.1000 | 1.3000 |")


def test_resumed_run_replaces_records_after_its_checkpoint(tmp_path):
    steps = [(10, 1.0), (20, 2.0), (30, 3.0), (20, 2.0), (30, 3.5), (40, 4.5)]
    log = write_log(tmp_path / "train.jsonl", [record(s, t, 20.0 + t, 0.5) for s, t in steps])
    records, superseded = read_log(str(log))
    assert [(r["step"], r["elapsed_s"]) for r in records] == [(10, 1.0), (20, 2.0), (30, 3.5), (40, 4.5)]
    assert superseded == 2


def test_malformed_line_names_file_and_line(tmp_path, capsys):
    log = tmp_path / "train.jsonl"
    good = json.dumps(record(10, 1.0, 20.0, 0.5))
    log.write_text(good + "\n\n" + '{"step": 20, "elapsed_s": 2.0,' + "\n", encoding="utf-8")
    with pytest.raises(LogError, match=r"train\.jsonl:3: not valid JSON"):
        read_log(str(log))
    assert run(log, tmp_path / "out") == 1
    assert f"{log}:3: not valid JSON" in capsys.readouterr().err
    assert not (tmp_path / "out" / "learning-curve.svg").exists()


@pytest.mark.parametrize("line, message", [
    ('{"step": 20, "elapsed_s": 2.0, "bpp": 0.4}', "train.jsonl:2: missing key psnr"),
    ('{"step": 20, "psnr": 21.0}', "train.jsonl:2: missing keys elapsed_s, bpp"),
    ('[1, 2]', "train.jsonl:2: expected a JSON object"),
    ('{"step": 20, "elapsed_s": 2.0, "psnr": "21", "bpp": 0.4}', "train.jsonl:2: psnr is \"21\""),
    ('{"step": 20, "elapsed_s": 2.0, "psnr": NaN, "bpp": 0.4}', "train.jsonl:2: psnr is NaN"),
    ('{"step": 20, "elapsed_s": 2.0, "psnr": 21, "bpp": 0.4, "rate_level": -1}', "train.jsonl:2: rate_level is -1"),
])
def test_bad_records_name_the_line(tmp_path, line, message):
    log = tmp_path / "train.jsonl"
    log.write_text(json.dumps(record(10, 1.0, 20.0, 0.5)) + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(LogError) as error:
        read_log(str(log))
    assert message in str(error.value)


@pytest.mark.parametrize("content", ["", "\n  \n"])
def test_empty_log_is_a_clear_error(tmp_path, capsys, content):
    log = tmp_path / "train.jsonl"
    log.write_text(content, encoding="utf-8")
    assert run(log, tmp_path / "out") == 1
    assert f"{log}: no logged steps (the log is empty)" in capsys.readouterr().err


def test_usage_errors_exit_2(tmp_path, capsys):
    log = one_rate_log(tmp_path)
    for argv in ([str(log)], [str(log), "--out", str(tmp_path / "o"), "--window", "0"],
                 [str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o")]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
    assert "missing.jsonl" in capsys.readouterr().err


def test_script_runs_standalone_and_explains_itself(tmp_path):
    script = str(TOOLS / "learning_curve.py")
    help_text = subprocess.run([sys.executable, script, "--help"], capture_output=True, text=True, timeout=60)
    assert help_text.returncode == 0
    assert "--window" in help_text.stdout and "learning-curve.svg" in help_text.stdout
    done = subprocess.run([sys.executable, script, str(one_rate_log(tmp_path)), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "o" / "learning-curve.json").is_file()
