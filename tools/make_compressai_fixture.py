#!/usr/bin/env python3
"""Makes the CompressAI reference fixtures once (committed under
Tests/LICCoreTests/Fixtures/compressai/ARCH-small): for each architecture a small
model (N=16, M=24; cheng2020 M=16; elic2022-official M=32 in groups 8, 8, 16) with seeded, perturbed weights, converted with
compressai_to_lic.py into a model directory, plus an input and CompressAI's
eval-mode forward pass (x_hat and the likelihoods) in io.safetensors.

    python3 tools/make_compressai_fixture.py FIXTURES_DIR [ARCH ...]   (default: every one)

ARCH elic2022-transforms: Elic2022Official's four transforms alone (N=16,
M=32), their weights under LIC's stage names and, in io.safetensors, x,
y = g_a(x), x_hat = g_s(y), z = h_a(y) and params = h_s(z)."""
import os
import sys

import compressai
import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(__file__))
from compressai_to_lic import ARCHITECTURES, model_class, write_model  # noqa: E402



def elic_transforms(root):
    from compressai.models import Elic2022Official
    from compressai_to_lic import convert
    out = os.path.join(root, "elic2022-transforms-small")
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(1234)
    model = Elic2022Official(16, 32, groups=[8, 8, 16]).eval()
    with torch.no_grad():
        for _, p in model.named_parameters():
            p.add_(torch.randn_like(p) * 0.05)
        x = torch.rand(1, 3, 64, 64)
        y = model.g_a(x)
        z = model.latent_codec["hyper"].h_a(y)
        io = {"x": x, "y": y, "x_hat": model.g_s(y), "z": z, "params": model.latent_codec["hyper"].h_s(z)}
    state = {k: v for k, v in model.state_dict().items() if k.startswith(("g_a.", "g_s.", "latent_codec.hyper.h_"))}
    save_file(convert(state, "mbt2018-mean"), os.path.join(out, "weights.safetensors"),
              metadata={"source": "compressai " + compressai.__version__})
    save_file({k: v.contiguous() for k, v in io.items()}, os.path.join(out, "io.safetensors"))
    print("fixture written to", out)


root = sys.argv[1]
for arch in sys.argv[2:] or ARCHITECTURES:
    if arch == "elic2022-transforms":
        elic_transforms(root)
        continue
    out = os.path.join(root, f"{arch}-small")
    torch.manual_seed(1234)
    n, m = (16, 16) if arch.startswith("cheng2020") else (16, 24)  # cheng2020's latent has N channels
    groups = [8, 8, 16] if arch == "elic2022-official" else None
    # Elic2022Official's channel contexts are 224/128 channels wide at any N: float16 keeps its fixture small.
    half = arch == "elic2022-official"
    if groups:
        m = sum(groups)
    model = model_class(arch)(n, m, groups)
    with torch.no_grad():
        for name, p in model.named_parameters():
            # Move every parameter off its initial value (non-diagonal GDN gamma,
            # non-zero medians) so the comparison exercises all of it.
            p.add_(torch.randn_like(p) * (0.02 if "gamma" in name or "beta" in name else 0.05))
            if half:
                p.copy_(p.half().float())  # the values the float16 file holds
    model.eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        result = model(x)
    weights = write_model(model, arch, n, m, out, {"arch": arch, "source": "compressai " + compressai.__version__}, groups)
    if half:
        save_file({k: v.half() for k, v in weights.items()}, os.path.join(out, "weights.safetensors"),
                  metadata={"arch": arch, "source": "compressai " + compressai.__version__})
    io = {"x": x.contiguous(), "x_hat": result["x_hat"].contiguous()}
    io.update({f"{k}_likelihoods": v.contiguous() for k, v in result["likelihoods"].items()})
    save_file(io, os.path.join(out, "io.safetensors"))
    print("fixture written to", out)
