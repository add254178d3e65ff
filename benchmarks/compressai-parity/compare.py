"""Codes images with a CompressAI checkpoint twice: with CompressAI's own
compress/decompress, and with LIC (`lic encode` on the model directory
tools/compressai_to_lic.py made from the same checkpoint). Prints a Markdown
table: bytes (LIC: the whole .lic file, container included; CompressAI: its
strings) and PSNR of each, per image and in total.
Usage: python3 compare.py ARCH N M CHECKPOINT LIC_MODEL LIC_EXECUTABLE IMAGE...
Both sides pad the image to a multiple of 64 by replicating its edges."""
import math
import os
import re
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
    from PIL import Image
except ImportError as error:
    sys.exit(f"compare.py needs torch, compressai, numpy and Pillow ({error})")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_compressai import ARCHS  # noqa: E402


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * math.log10(255 ** 2 / mse)


def compressai_side(net, path):
    image = np.asarray(Image.open(path).convert("RGB"))
    x = torch.from_numpy(image.astype(np.float32) / 255).permute(2, 0, 1)[None]
    h, w = x.shape[2:]
    x = torch.nn.functional.pad(x, (0, (64 - w % 64) % 64, 0, (64 - h % 64) % 64), mode="replicate")
    with torch.no_grad():
        out = net.compress(x)
        x_hat = net.decompress(out["strings"], out["shape"])["x_hat"]
    size = sum(len(s) for strings in out["strings"] for s in strings)
    pixels = (x_hat[0, :, :h, :w].clamp(0, 1).permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
    return size, psnr(image, pixels)


def lic_side(lic, model, path, directory):
    target = os.path.join(directory, "image.lic")
    line = subprocess.run([lic, "encode", "--model", model, path, "-o", target, "--psnr"], check=True, capture_output=True, text=True).stdout
    return os.path.getsize(target), float(re.search(r"PSNR ([0-9.]+) dB", line).group(1))


def main() -> None:
    if len(sys.argv) < 8 or sys.argv[1] not in ARCHS:
        sys.exit(__doc__)
    arch, n, m, checkpoint, model, lic, images = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7:]
    torch.set_num_threads(os.cpu_count() or 1)
    net = ARCHS[arch](n, m).eval()
    net.load_state_dict(torch.load(checkpoint, map_location="cpu"))
    net.update(force=True)
    print(f"| {arch} image | CompressAI bytes | LIC bytes | size ratio | CompressAI PSNR | LIC PSNR | PSNR difference |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    totals = [0, 0, 0.0, 0.0]
    with tempfile.TemporaryDirectory() as directory:
        for path in images:
            cai_size, cai_psnr = compressai_side(net, path)
            lic_size, lic_psnr = lic_side(lic, model, path, directory)
            totals = [totals[0] + cai_size, totals[1] + lic_size, totals[2] + cai_psnr, totals[3] + lic_psnr]
            print(f"| {os.path.basename(path)} | {cai_size} | {lic_size} | {lic_size / cai_size:.4f} | {cai_psnr:.3f} | {lic_psnr:.3f} | {lic_psnr - cai_psnr:+.3f} |")
    k = len(images)
    print(f"| all {k} | {totals[0]} | {totals[1]} | {totals[1] / totals[0]:.4f} | {totals[2] / k:.3f} | {totals[3] / k:.3f} | {(totals[3] - totals[2]) / k:+.3f} |")


if __name__ == "__main__":
    main()
