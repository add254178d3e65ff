"""CompressAI's side of benchmarks/context-models: encode and decode one image
with an architecture (untrained weights, seeded: time does not depend on
them) through CompressAI's compress / decompress, REPEATS times after one
warm-up, printing the
median seconds of each. Usage: python3 anchor_compressai.py ARCH IMAGE THREADS REPEATS
ARCH: mbt2018 (JointAutoregressiveHierarchicalPriors) or mbt2018-mean, N=128, M=192;
cheng2020-anchor-checkerboard (Cheng2020AnchorCheckerboard), N=192;
elic2022-official (Elic2022Official), N=192, M=320."""
import statistics
import sys
import time

try:
    import numpy as np
    import torch
    from PIL import Image
    from compressai.models import (Cheng2020AnchorCheckerboard, Elic2022Official, JointAutoregressiveHierarchicalPriors,
                                   MeanScaleHyperprior)
except ImportError as error:
    sys.exit(f"anchor_compressai.py needs torch, compressai, numpy and Pillow ({error})")

ARCHS = {"mbt2018": lambda: JointAutoregressiveHierarchicalPriors(128, 192), "mbt2018-mean": lambda: MeanScaleHyperprior(128, 192),
         "cheng2020-anchor-checkerboard": lambda: Cheng2020AnchorCheckerboard(192), "elic2022-official": lambda: Elic2022Official(192, 320)}


def main() -> None:
    if len(sys.argv) != 5 or sys.argv[1] not in ARCHS:
        sys.exit(__doc__)
    arch, path, threads, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = ARCHS[arch]().eval()
    net.update(force=True)
    image = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255
    x = torch.from_numpy(image).permute(2, 0, 1)[None]
    encode, decode = [], []
    with torch.no_grad():
        out = net.compress(x)  # warm-up, as LIC's side has
        net.decompress(out["strings"], out["shape"])
        for _ in range(repeats):
            start = time.perf_counter()
            out = net.compress(x)
            encode.append(time.perf_counter() - start)
            start = time.perf_counter()
            net.decompress(out["strings"], out["shape"])
            decode.append(time.perf_counter() - start)
    print(f"{statistics.median(encode):.3f} {statistics.median(decode):.3f}")


if __name__ == "__main__":
    main()
