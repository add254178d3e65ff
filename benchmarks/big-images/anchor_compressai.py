"""CompressAI's side of benchmarks/big-images: one process that encodes (or
decodes) one image with mbt2018-mean (N=128, M=192, untrained weights: time
and memory do not depend on them) through CompressAI's own compress /
decompress, on the given number of threads. The caller measures the process
(GNU time). Usage: python3 anchor_compressai.py encode IMAGE OUT.bin THREADS
                   python3 anchor_compressai.py decode OUT.bin IMAGE THREADS
                   python3 anchor_compressai.py export CHECKPOINT.pth
(export: the same weights as a state_dict, for tools/compressai_to_lic.py, so
LIC codes with exactly the network CompressAI runs)"""
import pickle
import sys

try:
    import numpy as np
    import torch
    from PIL import Image
    from compressai.zoo import mbt2018_mean
except ImportError as error:
    sys.exit(f"anchor_compressai.py needs torch, compressai, numpy and Pillow ({error})")


def model(threads: int):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = mbt2018_mean(quality=3, pretrained=False).eval()
    net.update(force=True)
    return net


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "export":
        torch.save(model(1).state_dict(), sys.argv[2])
        return
    if len(sys.argv) != 5 or sys.argv[1] not in ("encode", "decode"):
        sys.exit(__doc__)
    mode, source, target, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    net = model(threads)
    with torch.no_grad():
        if mode == "encode":
            image = np.asarray(Image.open(source).convert("RGB"), dtype=np.float32) / 255
            x = torch.from_numpy(image).permute(2, 0, 1)[None]
            h, w = x.shape[2:]
            pad_h, pad_w = (64 - h % 64) % 64, (64 - w % 64) % 64
            x = torch.nn.functional.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
            out = net.compress(x)
            with open(target, "wb") as f:
                pickle.dump({"strings": out["strings"], "shape": out["shape"], "size": (h, w)}, f)
        else:
            with open(source, "rb") as f:
                data = pickle.load(f)
            x_hat = net.decompress(data["strings"], data["shape"])["x_hat"]
            h, w = data["size"]
            pixels = (x_hat[0, :, :h, :w].clamp(0, 1).permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
            Image.fromarray(pixels).save(target)


if __name__ == "__main__":
    main()
