#!/usr/bin/env python3
"""Writes the MS-SSIM reference fixtures used by MSSSIMTests.swift.

Two pairs of 8-bit RGB images, a synthetic "original" and a noisy copy:
  a.png / b.png          192 x 192 (every scale has even sides)
  odd_a.png / odd_b.png  171 x 165 (odd sides: exercises avg_pool2d's padding)
and expected.txt with pytorch_msssim.ms_ssim(x, y, data_range=255) for each
pair, computed in float64 (and float32 for comparison), inputs as N,C,H,W.

Pixels come from a fixed LCG (no numpy RNG), so the files are reproducible.
Needs only the standard library to write the PNGs; the reference values need
torch and pytorch-msssim (pip install pytorch-msssim).
Run:  python3 make_msssim_fixtures.py
"""
import math
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def write_rgb_png(path, width, height, pixels):
    """pixels: flat list of width*height*3 ints in 0..255, rows top to bottom."""
    raw = bytearray()
    stride = width * 3
    for y in range(height):
        row = pixels[y * stride:(y + 1) * stride]
        raw.append(1)  # filter: Sub (difference to the pixel on the left)
        raw.extend(bytes((row[i] - (row[i - 3] if i >= 3 else 0)) & 0xFF for i in range(stride)))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(data)


class LCG:
    def __init__(self, seed):
        self.state = seed & 0xFFFFFFFFFFFFFFFF

    def next(self):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
        return self.state >> 33  # 31 bits

    def uniform(self, low, high):
        return low + (high - low) * (self.next() / float(1 << 31))


def clamp8(v):
    return max(0, min(255, int(round(v))))


def make_pair(width, height, seed):
    """a: smooth waves, a checkerboard, a ramp and a little noise; b: a blurred,
    coarsely quantized copy of a with sparse noise (a JPEG-like degradation
    that keeps the files small)."""
    rng = LCG(seed)
    a = []
    for y in range(height):
        for x in range(width):
            for c in range(3):
                smooth = 60 * math.sin(x / 9.0 + c) * math.cos(y / 13.0 + 0.5 * c)
                checker = 40 if ((x // 16 + y // 12) % 2) else -20
                ramp = 50 * (x + 2 * y) / (width + 2 * height)
                noise = rng.uniform(-12, 12) if (x * 7 + y * 3) % 5 == 0 else 0
                a.append(clamp8(110 + smooth + checker + ramp + noise))
    b = []
    stride = width * 3
    for y in range(height):
        for x in range(width):
            for c in range(3):
                total = 0
                for dy in (-1, 0, 1):
                    for dx in (-1, 0, 1):
                        yy = min(max(y + dy, 0), height - 1)
                        xx = min(max(x + dx, 0), width - 1)
                        total += a[yy * stride + xx * 3 + c]
                blurred = total / 9.0
                quantized = 24 * round(blurred / 24.0)
                noise = rng.uniform(-40, 40) if (x + 3 * y) % 7 == 0 else 0
                b.append(clamp8(quantized + noise))
    return a, b


def reference(width, height, a, b):
    try:
        import torch
        from pytorch_msssim import ms_ssim
    except ImportError:
        return None
    def t(p, dtype):
        return torch.tensor(p, dtype=dtype).reshape(1, height, width, 3).permute(0, 3, 1, 2).contiguous()
    v64 = ms_ssim(t(a, torch.float64), t(b, torch.float64), data_range=255).item()
    v32 = ms_ssim(t(a, torch.float32), t(b, torch.float32), data_range=255).item()
    return v64, v32


def main():
    lines = []
    for prefix, (width, height, seed) in (("", (192, 192, 1)), ("odd_", (171, 165, 2))):
        a, b = make_pair(width, height, seed)
        write_rgb_png(os.path.join(HERE, prefix + "a.png"), width, height, a)
        write_rgb_png(os.path.join(HERE, prefix + "b.png"), width, height, b)
        ref = reference(width, height, a, b)
        if ref is not None:
            lines.append("%sa.png %sb.png %dx%d float64 %.15f float32 %.15f"
                         % (prefix, prefix, width, height, ref[0], ref[1]))
    if lines:
        with open(os.path.join(HERE, "expected.txt"), "w") as f:
            f.write("# pytorch_msssim.ms_ssim(x, y, data_range=255), x/y as N,C,H,W\n")
            f.write("\n".join(lines) + "\n")
        print("\n".join(lines))


if __name__ == "__main__":
    main()
