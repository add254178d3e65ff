"""The reference run, CompressAI side, with the recipe of run_lic.sh:
MeanScaleHyperprior (mbt2018-mean) N=128, M=192, lambda 0.0067,
loss lambda * 255^2 * MSE + bpp, random 128x128 crops with horizontal flips
of the training photos, batch 8, Adam 1e-4 (aux Adam 1e-3 on the quantiles),
gradient clipping 1.0, a fixed wall-clock budget on 2 threads. Then on
Kodak: model.update(), real compress/decompress, bpp from the strings' bytes,
PSNR on 8-bit RGB, encode/decode time. Prints progress and writes
OUT_DIR/train.jsonl and OUT_DIR/kodak.json.

Usage: python3 train_compressai.py OUT_DIR [BUDGET_SECONDS=2400] [SHARED=../shared]
Needs torch, compressai, numpy, pillow (pip)."""
import glob
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
from PIL import Image
from compressai.models import MeanScaleHyperprior

out = sys.argv[1]
budget = float(sys.argv[2]) if len(sys.argv) > 2 else 2400
shared = sys.argv[3] if len(sys.argv) > 3 else os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared")
os.makedirs(out, exist_ok=True)
torch.set_num_threads(2)
torch.manual_seed(0)
random.seed(0)

images = [np.asarray(Image.open(p).convert("RGB"), dtype=np.float32) / 255
          for p in sorted(glob.glob(os.path.join(shared, "data", "train", "*.png")))]


def batch(size=8, crop=128):
    crops = []
    for _ in range(size):
        image = random.choice(images)
        top = random.randint(0, image.shape[0] - crop)
        left = random.randint(0, image.shape[1] - crop)
        patch = image[top:top + crop, left:left + crop]
        if random.random() < 0.5:
            patch = patch[:, ::-1]
        crops.append(np.ascontiguousarray(patch.transpose(2, 0, 1)))
    return torch.from_numpy(np.stack(crops))


model = MeanScaleHyperprior(128, 192).train()
main = [p for n, p in model.named_parameters() if not n.endswith(".quantiles")]
aux = [p for n, p in model.named_parameters() if n.endswith(".quantiles")]
optimizer, aux_optimizer = torch.optim.Adam(main, lr=1e-4), torch.optim.Adam(aux, lr=1e-3)
lmbda, start, step = 0.0067, time.time(), 0
log = open(os.path.join(out, "train.jsonl"), "w")
while time.time() - start < budget:
    x = batch()
    optimizer.zero_grad()
    aux_optimizer.zero_grad()
    result = model(x)
    bpp = sum(torch.log(l).sum() for l in result["likelihoods"].values()) / (-math.log(2) * x.shape[0] * 128 * 128)
    mse = torch.mean((result["x_hat"] - x) ** 2)
    loss = lmbda * 255 ** 2 * mse + bpp
    loss.backward()
    torch.nn.utils.clip_grad_norm_(main, 1.0)
    optimizer.step()
    aux_loss = model.aux_loss()
    aux_loss.backward()
    aux_optimizer.step()
    step += 1
    if step % 50 == 0:
        record = {"step": step, "elapsed_s": time.time() - start, "loss": loss.item(), "bpp": bpp.item(),
                  "psnr": 10 * math.log10(1 / max(mse.item(), 1e-12))}
        log.write(json.dumps(record) + "\n")
        log.flush()
        print(f"step {step} | loss {record['loss']:.4f} | bpp {record['bpp']:.4f} | PSNR {record['psnr']:.2f} dB", flush=True)
print(f"trained {step} steps in {time.time() - start:.0f} s")

model.eval()
model.update(force=True)
results = []
with torch.no_grad():
    for path in sorted(glob.glob(os.path.join(shared, "data", "kodak", "*.png"))):
        x = torch.from_numpy(np.asarray(Image.open(path).convert("RGB"), dtype=np.float32).transpose(2, 0, 1) / 255)[None]
        t = time.perf_counter()
        compressed = model.compress(x)
        encode_s = time.perf_counter() - t
        t = time.perf_counter()
        x_hat = model.decompress(compressed["strings"], compressed["shape"])["x_hat"].clamp(0, 1)
        decode_s = time.perf_counter() - t
        nbytes = sum(len(s[0]) for s in compressed["strings"])
        rec = (x_hat * 255).round()
        mse = torch.mean((rec - (x * 255).round()) ** 2).item()
        results.append({"name": os.path.basename(path), "bpp": nbytes * 8 / (x.shape[2] * x.shape[3]),
                        "psnr": 10 * math.log10(255 ** 2 / mse), "encode_s": encode_s, "decode_s": decode_s})
mean = {k: sum(r[k] for r in results) / len(results) for k in ["bpp", "psnr", "encode_s", "decode_s"]}
json.dump({"steps": step, "images": results, "mean": mean}, open(os.path.join(out, "kodak.json"), "w"), indent=1)
print(f"steps {step}; Kodak: {mean['bpp']:.4f} bpp, PSNR {mean['psnr']:.2f} dB, "
      f"encode {1000 * mean['encode_s']:.0f} ms, decode {1000 * mean['decode_s']:.0f} ms")
