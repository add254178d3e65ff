"""Trains a CompressAI model for a few minutes with PyTorch (not with LIC), so
that the parity check imports weights LIC has never seen: random 128-pixel
crops of the training PNGs, batch 8, Adam (lr 1e-3 main, 1e-3 auxiliary),
loss lambda * 255^2 * MSE + bpp, as CompressAI's examples/train.py.
Usage: python3 train_compressai.py ARCH N M DATA_DIR MINUTES OUT.pth
ARCH: one tools/compressai_to_lic.py imports (mbt2018-mean, mbt2018,
cheng2020-anchor-checkerboard (N = M), elic2022-official (M > 128), ...)."""
import glob
import math
import os
import random
import sys
import time

try:
    import numpy as np
    import torch
    from PIL import Image
    import compressai  # noqa: F401
except ImportError as error:
    sys.exit(f"train_compressai.py needs torch, compressai, numpy and Pillow ({error})")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from compressai_to_lic import ARCHITECTURES, model_class  # noqa: E402  (one place that builds CompressAI's models)

ARCHS = {arch: model_class(arch) for arch in ARCHITECTURES}
LAMBDA = 0.0067
CROP, BATCH = 128, 8


def crops(paths, rng):
    images = [np.asarray(Image.open(p).convert("RGB"), dtype=np.float32) / 255 for p in paths]
    while True:
        batch = []
        for _ in range(BATCH):
            image = images[rng.randrange(len(images))]
            top, left = rng.randrange(image.shape[0] - CROP + 1), rng.randrange(image.shape[1] - CROP + 1)
            batch.append(image[top:top + CROP, left:left + CROP])
        yield torch.from_numpy(np.stack(batch)).permute(0, 3, 1, 2).contiguous()


def main() -> None:
    if len(sys.argv) != 7 or sys.argv[1] not in ARCHS:
        sys.exit(__doc__)
    arch, n, m, data, minutes, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], float(sys.argv[5]), sys.argv[6]
    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count() or 1)
    net = ARCHS[arch](n, m).train()
    main_params = [p for name, p in net.named_parameters() if not name.endswith(".quantiles")]
    aux_params = [p for name, p in net.named_parameters() if name.endswith(".quantiles")]
    optimizer, aux_optimizer = torch.optim.Adam(main_params, lr=1e-3), torch.optim.Adam(aux_params, lr=1e-3)
    paths = sorted(glob.glob(os.path.join(data, "*.png")))
    batches = crops(paths, random.Random(0))
    deadline, step = time.time() + 60 * minutes, 0
    while time.time() < deadline:
        x = next(batches)
        result = net(x)
        pixels = x.shape[0] * x.shape[2] * x.shape[3]
        bpp = sum(torch.log(l).sum() for l in result["likelihoods"].values()) / (-math.log(2) * pixels)
        mse = torch.nn.functional.mse_loss(result["x_hat"], x)
        loss = LAMBDA * 255 ** 2 * mse + bpp
        optimizer.zero_grad()
        aux_optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(main_params, 1.0)
        optimizer.step()
        net.aux_loss().backward()
        aux_optimizer.step()
        step += 1
        if step % 100 == 0:
            print(f"step {step}: bpp {bpp.item():.3f}, PSNR {-10 * math.log10(mse.item()):.2f} dB", file=sys.stderr)
    torch.save(net.state_dict(), out)
    print(f"{arch}: {step} steps in {minutes} minutes -> {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
