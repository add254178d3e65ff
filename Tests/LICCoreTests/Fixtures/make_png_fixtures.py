#!/usr/bin/env python3
"""Writes the PNG fixtures used by ImageTests.swift into this directory.

A deliberately tiny PNG encoder (zlib + struct only, no PIL) so the fixtures
can hold things our own writer never produces: 16-bit samples, palettes,
tRNS, sub-byte gray, gray+alpha, Adam7 interlacing and truncated files.

The pixel formulas here are mirrored in ImageTests.swift; change both together.
Run:  python3 make_png_fixtures.py
"""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))

GRAY, RGB, PALETTE, GRAY_ALPHA, RGBA = 0, 2, 3, 4, 6


def chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def pack_row(samples, bit_depth):
    """Packs one row of integer samples at the given bit depth."""
    if bit_depth == 8:
        return bytes(samples)
    if bit_depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    # 1, 2 or 4 bits: big-endian bit order inside each byte, row padded.
    out, acc, nbits = bytearray(), 0, 0
    for s in samples:
        acc = (acc << bit_depth) | s
        nbits += bit_depth
        if nbits == 8:
            out.append(acc)
            acc, nbits = 0, 0
    if nbits:
        out.append(acc << (8 - nbits))
    return bytes(out)


def scanlines(rows, bit_depth):
    """Filter type 0 (None) before every row."""
    return b"".join(b"\x00" + pack_row(r, bit_depth) for r in rows)


# Adam7 passes: (x start, y start, x step, y step)
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
         (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def interlaced_scanlines(rows, samples_per_pixel, bit_depth):
    height, width = len(rows), len(rows[0]) // samples_per_pixel
    out = b""
    for x0, y0, dx, dy in ADAM7:
        xs, ys = range(x0, width, dx), range(y0, height, dy)
        if not xs or not ys:
            continue  # empty passes contribute nothing, not even filter bytes
        sub = []
        for y in ys:
            row = []
            for x in xs:
                i = x * samples_per_pixel
                row.extend(rows[y][i:i + samples_per_pixel])
            sub.append(row)
        out += scanlines(sub, bit_depth)
    return out


def png(width, height, bit_depth, color_type, rows, extra_chunks=(),
        interlaced=False, samples_per_pixel=1):
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type,
                       0, 0, 1 if interlaced else 0)
    if interlaced:
        raw = interlaced_scanlines(rows, samples_per_pixel, bit_depth)
    else:
        raw = scanlines(rows, bit_depth)
    body = chunk(b"IHDR", ihdr)
    for kind, data in extra_chunks:
        body += chunk(kind, data)
    body += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def save(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


PALETTE4 = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)]


def main():
    # 16-bit gray: must be refused.
    save("gray16_4x3.png", png(4, 3, 16, GRAY,
         [[(x * 4000 + y * 9000) for x in range(4)] for y in range(3)]))

    # 8-bit palette, no tRNS -> RGB. Pixel (x, y) = PALETTE4[(x + y) % 4].
    plte = b"".join(bytes(c) for c in PALETTE4)
    save("palette_5x4.png", png(5, 4, 8, PALETTE,
         [[(x + y) % 4 for x in range(5)] for y in range(4)],
         [(b"PLTE", plte)]))

    # 4-bit palette with tRNS -> RGBA. Index (x + 2y) % 4, alpha
    # [0, 128] for indices 0, 1 and 255 for the rest (tRNS may be short).
    save("palette_trns_3x2.png", png(3, 2, 4, PALETTE,
         [[(x + 2 * y) % 4 for x in range(3)] for y in range(2)],
         [(b"PLTE", plte), (b"tRNS", bytes([0, 128]))]))

    # 1-bit gray -> 8-bit gray 0/255. Bit (x, y) = (x + y) % 2; width 9
    # exercises the padded last byte.
    save("gray1_9x2.png", png(9, 2, 1, GRAY,
         [[(x + y) % 2 for x in range(9)] for y in range(2)]))

    # Gray+alpha -> RGBA. Gray = 40x + 100y, alpha = 255 - 50x.
    save("graya_3x2.png", png(3, 2, 8, GRAY_ALPHA,
         [sum(([40 * x + 100 * y, 255 - 50 * x] for x in range(3)), [])
          for y in range(2)]))

    # RGB with tRNS colour (10, 20, 30) -> RGBA; that colour gets alpha 0.
    rgb_rows = [[10, 20, 30, 1, 2, 3], [4, 5, 6, 10, 20, 30]]
    save("rgb_trns_2x2.png", png(2, 2, 8, RGB, rgb_rows,
         [(b"tRNS", struct.pack(">HHH", 10, 20, 30))]))

    # Adam7-interlaced RGB. Pixel (x, y) = (17x + 3y, 5x + 29y, x ^ y) mod 256.
    w, h = 11, 7
    rows = [sum(([(17 * x + 3 * y) % 256, (5 * x + 29 * y) % 256, (x ^ y)]
                 for x in range(w)), []) for y in range(h)]
    save("rgb_interlaced_11x7.png",
         png(w, h, 8, RGB, rows, interlaced=True, samples_per_pixel=3))

    # A valid 8x8 RGB file cut off in the middle of its IDAT chunk.
    full = png(8, 8, 8, RGB,
               [[(x * 31 + y * 7 + c) % 256 for x in range(8) for c in range(3)]
                for y in range(8)])
    idat = full.index(b"IDAT")
    save("truncated_rgb.png", full[:idat + 4 + 20])


if __name__ == "__main__":
    main()
