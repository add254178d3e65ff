"""LIC's side of benchmarks/context-models: encode and decode one image with a
model directory through the embedding library (bindings/python: lic_encode,
which writes the file and skips the synthesis, and lic_decode) - library
calls like CompressAI's compress / decompress - REPEATS times after one
warm-up, printing the median seconds of each; checks that every decode gives
the same pixels. Usage: python3 lic_side.py MODEL IMAGE THREADS REPEATS
(LIC_EMBED_LIBRARY names liblicembed.so; THREADS goes to LIC_THREADS)."""
import os
import statistics
import sys
import time

if len(sys.argv) != 5:
    sys.exit(__doc__)
os.environ["LIC_THREADS"] = sys.argv[3]  # read when the library starts
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bindings", "python"))
try:
    import numpy as np
    from PIL import Image
    import lic
except ImportError as error:
    sys.exit(f"lic_side.py needs numpy and Pillow ({error})")


def main() -> None:
    model, path, repeats = sys.argv[1], sys.argv[2], int(sys.argv[4])
    image = np.asarray(Image.open(path).convert("RGB"))
    encode, decode, first = [], [], None
    with lic.Codec(model=model) as codec:
        codec.decode(codec.encode(image))  # warm-up: plans, tables, page cache
        for _ in range(repeats):
            start = time.perf_counter()
            data = codec.encode(image)
            encode.append(time.perf_counter() - start)
            start = time.perf_counter()
            pixels = codec.decode(data)
            decode.append(time.perf_counter() - start)
            if first is None:
                first = pixels
            elif not np.array_equal(first, pixels):
                sys.exit("lic_side.py: two decodes of the same image differ")
    print(f"{statistics.median(encode):.3f} {statistics.median(decode):.3f}")


if __name__ == "__main__":
    main()
