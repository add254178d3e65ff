"""The whole tool against a stand-in for lic (a Python script speaking the
`lic eval --json`, `lic metrics` and `lic --version` interfaces), so the
wiring is tested without a Swift build."""
import json
import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ElementTree

import pytest

from conftest import TOOLS, write_gradients

FAKE_LIC = textwrap.dedent('''\
    import json, os, sys
    import numpy as np
    from PIL import Image

    def options(arguments):
        found, index = {}, 0
        while index < len(arguments):
            found.setdefault(arguments[index], []).append(arguments[index + 1])
            index += 2
        return found

    def load(path):
        return np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)

    arguments = sys.argv[1:]
    if arguments == ["--version"]:
        print("0.0.0-fake (plugin ABI 1.2)")
    elif arguments[0] == "eval":
        found = options(arguments[1:])
        quality = found.get("--quality", ["4"])[0]
        if quality == os.environ.get("FAKE_LIC_FAIL_QUALITY"):
            print("Error: quality " + quality + " is not offered by this model", file=sys.stderr)
            sys.exit(1)
        q = int(quality) + (len(found["--model"][0]) % 3 if "--model" in found else 0)
        data = found["--data"][0]
        images = []
        for index, name in enumerate(sorted(os.listdir(data))):
            height, width, _ = load(os.path.join(data, name)).shape
            images.append({"name": name, "bpp": 0.1 * q, "bpp_estimated": 0.09 * q, "psnr": 24.0 + 2 * q,
                           "ms_ssim": None if min(width, height) < 161 else 1 - 10 ** (-(q + 8) / 10),
                           "encode_s": 0.01, "decode_s": 0.02})
            print(f"[{index + 1}] {name}")
        mean = {key: images[0][key] for key in images[0]}
        mean["name"] = "mean"
        with open(found["--json"][0], "w") as file:
            json.dump({"images": images, "mean": mean}, file)
    elif arguments[0] == "metrics":
        reference, decoded = arguments[1], arguments[2]
        for name in sorted(os.listdir(decoded)):
            error = np.mean((load(os.path.join(reference, name)) - load(os.path.join(decoded, name))) ** 2)
            print(json.dumps({"name": name, "psnr": 10 * np.log10(255 ** 2 / error), "ms_ssim": None}))
        print(json.dumps({"name": "mean", "psnr": 0, "ms_ssim": None}))
    else:
        print("Error: unknown command " + arguments[0], file=sys.stderr)
        sys.exit(1)
    ''')


@pytest.fixture
def fake_lic(tmp_path):
    path = tmp_path / "bin" / "lic"
    path.parent.mkdir()
    path.write_text(f"#!{sys.executable}\n" + FAKE_LIC)
    path.chmod(0o755)
    return path


def run_tool(*arguments, env=None):
    return subprocess.run([sys.executable, str(TOOLS / "rd_report.py"), *map(str, arguments)],
                          capture_output=True, text=True, env=dict(os.environ, **(env or {})), timeout=120)


def test_full_run_writes_json_markdown_and_svg(fake_lic, tmp_path):
    data = write_gradients(tmp_path / "images", 3, 64, 48)
    out = tmp_path / "out"
    result = run_tool("--data", data, "--out", out, "--lic", fake_lic, "--qualities", "1,2,3",
                      "--anchors", "jpeg,webp", "--jpeg-qualities", "20,50,90", "--webp-qualities", "10,50,90",
                      "--limit", 2)
    assert result.returncode == 0, result.stderr
    assert "[JPEG q=50]" in result.stderr and "wrote" in result.stderr
    report = json.loads((out / "rd.json").read_text())
    assert [curve["name"] for curve in report["curves"]] == ["LIC", "JPEG", "WebP"]
    assert [image["name"] for image in report["data"]["images"]] == ["img0.png", "img1.png"]
    lic_curve = report["curves"][0]
    assert [point["bpp"] for point in lic_curve["points"]] == pytest.approx([0.1, 0.2, 0.3])
    assert [point["label"] for point in lic_curve["points"]] == ["Q=1", "Q=2", "Q=3"]
    assert lic_curve["points"][0]["encode_ms"] == pytest.approx(10.0)
    for curve in report["curves"][1:]:
        bpps = [point["bpp"] for point in curve["points"]]
        psnrs = [point["psnr"] for point in curve["points"]]
        assert all(bpp > 0 for bpp in bpps) and bpps == sorted(bpps)
        assert all(psnr > 20 for psnr in psnrs) and psnrs == sorted(psnrs)
        for point in curve["points"]:
            assert len(point["images"]) == 2
            assert point["psnr"] == pytest.approx(sum(image["psnr"] for image in point["images"]) / 2)
            assert point["ms_ssim"] is None and point["ms_ssim_db"] is None
    pairs = [(entry["test"], entry["anchor"]) for entry in report["bd"]]
    assert pairs == [("LIC", "JPEG"), ("LIC", "WebP"), ("WebP", "JPEG")]
    for entry in report["bd"]:
        assert entry["bd_rate_ms_ssim_db_percent"]["value"] is None
        assert entry["bd_rate_ms_ssim_db_percent"]["reason"] == "no ms_ssim_db values"
    evals = [command["argv"] for command in report["commands"] if command["argv"][1] == "eval"]
    assert [argv[argv.index("--quality") + 1] for argv in evals] == ["1", "2", "3"]
    assert all("--model" not in argv for argv in evals)
    assert len([c for c in report["commands"] if c["argv"][1] == "metrics"]) == 6
    assert report["versions"]["lic"] == "0.0.0-fake (plugin ABI 1.2)"
    assert report["machine"]["platform"]
    markdown = (out / "rd.md").read_text()
    for heading in ("## LIC", "## JPEG", "## WebP", "## Bjontegaard deltas", "quality=q, optimize=True"):
        assert heading in markdown
    ElementTree.parse(out / "rd.svg")


def test_fixed_rate_models_make_one_curve(fake_lic, tmp_path):
    data = write_gradients(tmp_path / "images", 2, 64, 48)
    models = [tmp_path / "model-a", tmp_path / "model-bb"]
    for model in models:
        model.mkdir()
    out = tmp_path / "out"
    result = run_tool("--data", data, "--out", out, "--lic", fake_lic, "--qualities", "",
                      "--model", models[0], "--model", models[1], "--anchors", "jpeg", "--jpeg-qualities", "30,60")
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "rd.json").read_text())
    lic_curves = [curve for curve in report["curves"] if curve["kind"] == "lic"]
    assert len(lic_curves) == 1
    assert [point["label"] for point in lic_curves[0]["points"]] == ["model-a", "model-bb"]
    evals = [command["argv"] for command in report["commands"] if command["argv"][1] == "eval"]
    assert all("--quality" not in argv for argv in evals)
    assert [argv[argv.index("--model") + 1] for argv in evals] == [str(model) for model in models]


def test_several_models_with_qualities_make_a_curve_each(fake_lic, tmp_path):
    data = write_gradients(tmp_path / "images", 1, 64, 48)
    models = [tmp_path / "m1", tmp_path / "m22"]
    for model in models:
        model.mkdir()
    out = tmp_path / "out"
    result = run_tool("--data", data, "--out", out, "--lic", fake_lic, "--qualities", "1,2",
                      "--model", models[0], "--model", models[1], "--anchors", "")
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "rd.json").read_text())
    assert [curve["name"] for curve in report["curves"]] == ["LIC m1", "LIC m22"]
    assert report["bd"] == []


def test_a_failing_lic_command_is_reported_with_its_message_and_command(fake_lic, tmp_path):
    data = write_gradients(tmp_path / "images", 1, 64, 48)
    result = run_tool("--data", data, "--out", tmp_path / "out", "--lic", fake_lic, "--qualities", "1,2",
                      "--anchors", "", env={"FAKE_LIC_FAIL_QUALITY": "2"})
    assert result.returncode == 1
    assert "quality 2 is not offered by this model" in result.stderr
    assert f"{fake_lic} eval --data" in result.stderr and "--quality 2" in result.stderr


def test_bad_arguments_name_the_problem(fake_lic, tmp_path):
    missing = tmp_path / "nowhere"
    result = run_tool("--data", missing, "--out", tmp_path / "out", "--lic", fake_lic, "--anchors", "jpeg")
    assert result.returncode == 1 and f"{missing}: no such folder" in result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_tool("--data", empty, "--out", tmp_path / "out", "--lic", fake_lic, "--anchors", "jpeg")
    assert result.returncode == 1 and "no PNG files" in result.stderr
    result = run_tool("--data", empty, "--out", tmp_path / "out", "--lic", tmp_path / "no-lic", "--anchors", "")
    assert result.returncode == 1 and "no-lic (from --lic): not an executable file" in result.stderr
    result = run_tool("--data", empty, "--out", tmp_path / "out", "--anchors", "jpeg,bmp")
    assert result.returncode == 2 and "unknown anchor bmp" in result.stderr
    result = run_tool("--data", empty, "--out", tmp_path / "out", "--jpeg-qualities", "5,x")
    assert result.returncode == 2 and "not a comma-separated list of integers" in result.stderr


def test_help_explains_the_options():
    result = run_tool("--help")
    assert result.returncode == 0
    for option in ("--data", "--out", "--lic", "--model", "--qualities", "--jpeg-qualities",
                   "--webp-qualities", "--avif-qualities", "--anchors", "--limit", "--threads", "rd.json"):
        assert option in result.stdout


def test_missing_packages_are_named_with_the_install_command(tmp_path):
    shadow = tmp_path / "shadow"
    for package in ("numpy", "PIL"):
        (shadow / package).mkdir(parents=True)
        (shadow / package / "__init__.py").write_text(f"raise ImportError('no {package} here')\n")
    result = run_tool("--data", tmp_path, "--out", tmp_path / "out", env={"PYTHONPATH": str(shadow)})
    assert result.returncode == 1
    assert result.stderr.strip() == ("rd_report: missing Python packages: numpy, Pillow>=11.3. "
                                     "Install them with: pip install -r tools/requirements-rd.txt")


def test_pillow_without_avif_is_explained(monkeypatch):
    from PIL import features

    from rdreport.deps import avif_problem
    monkeypatch.setattr(features, "check", lambda name: name != "avif")
    problem = avif_problem()
    assert "Pillow >= 11.3" in problem and "pip install -r tools/requirements-rd.txt" in problem
    assert "leave avif out of --anchors" in problem
