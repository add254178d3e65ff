"""python -m lic.batch on a local Dask cluster with two workers."""
import json
import subprocess
import sys

import numpy as np
from PIL import Image

MODEL = "Tests/LICCoreTests/Fixtures/models/mbt2018-mean-16x32"


def test_batch_codes_a_folder_on_two_local_workers(tmp_path, root):
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(4)
    for index in range(4):
        Image.fromarray(rng.integers(0, 256, (48 + 16 * index, 64, 3), dtype=np.uint8)).save(folder / f"img{index}.png")
    (folder / "broken.png").write_bytes(b"not a png")
    out = tmp_path / "results.jsonl"
    result = subprocess.run([sys.executable, "-m", "lic.batch", str(folder), "--model", str(root / MODEL), "--out", str(out),
                             "--workers", "2"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stderr  # the broken image is reported, the others coded
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["image"].rsplit("/", 1)[1] for r in rows) == ["broken.png"] + [f"img{i}.png" for i in range(4)]
    good = [r for r in rows if "error" not in r]
    assert len(good) == 4 and all(r["bytes"] > 0 and r["bpp"] > 0 and r["psnr"] > 5 for r in good)
    assert "broken.png" in next(r for r in rows if "error" in r)["image"]
    summary = json.loads(result.stderr.strip().splitlines()[-1])["summary"]
    assert summary["images"] == 5 and summary["errors"] == 1 and summary["workers"] == 2 and summary["images_per_second"] > 0
    # The rows' sizes are the library's: the same as coding in this process.
    import lic
    with lic.Codec(model=root / MODEL) as codec:
        first = next(r for r in good if r["image"].endswith("img0.png"))
        assert len(codec.encode(np.asarray(Image.open(folder / "img0.png")))) == first["bytes"]
