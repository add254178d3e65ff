"""Puts tools/ on sys.path (for the rdreport package) and offers small test images."""
import os
import pathlib
import subprocess
import sys

import pytest

TOOLS = pathlib.Path(__file__).resolve().parents[1]
REPO = TOOLS.parent
sys.path.insert(0, str(TOOLS))


def write_gradients(folder: pathlib.Path, count: int, width: int, height: int) -> pathlib.Path:
    """`count` smooth RGB gradient PNGs (distinct per image) named img0.png, img1.png, ..."""
    import numpy as np
    from PIL import Image
    folder.mkdir(parents=True, exist_ok=True)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    for index in range(count):
        red = 255 * x / max(width - 1, 1)
        green = 255 * y / max(height - 1, 1)
        blue = 127 + 100 * np.sin((x + y + 10 * index) / 9.0)
        pixels = np.clip(np.stack([red, green, blue], axis=-1), 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"img{index}.png")
    return folder


@pytest.fixture
def gradient_images(tmp_path):
    return write_gradients(tmp_path / "images", 2, 64, 48)


def lic_build_binary():
    """lic in $LIC_BUILD_DIR, or None (with the reason) when there is none."""
    build = os.environ.get("LIC_BUILD_DIR")
    if not build:
        return None, "LIC_BUILD_DIR is not set (a build folder holding lic)"
    path = pathlib.Path(build) / "lic"
    if not (path.is_file() and os.access(path, os.X_OK)):
        return None, f"no executable lic in LIC_BUILD_DIR={build}"
    probe = subprocess.run([str(path), "metrics", "--help"], capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        return None, f"{path} has no `lic metrics` command (a build from before it was added)"
    return path, None
