#!/usr/bin/env python3
"""Makes the CompressAI reference fixture once (committed under
Tests/LICModelsTests/Fixtures/mbt2018-mean-small): a small mbt2018-mean
(N=16, M=24) with seeded, perturbed weights, converted with
compressai_to_lic.py into a model directory, plus an input and CompressAI's eval-mode forward pass
(x_hat and both likelihoods) in io.safetensors.

    python3 tools/make_compressai_fixture.py OUT_DIR"""
import os
import sys

import torch
from compressai.models import MeanScaleHyperprior
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(__file__))
from compressai_to_lic import write_model  # noqa: E402

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
torch.manual_seed(1234)
model = MeanScaleHyperprior(16, 24)
with torch.no_grad():
    for name, p in model.named_parameters():
        # Move every parameter off its initial value (non-diagonal GDN gamma,
        # non-zero medians) so the comparison exercises all of it.
        p.add_(torch.randn_like(p) * (0.02 if "gamma" in name or "beta" in name else 0.05))
model.eval()
x = torch.rand(1, 3, 64, 64)
with torch.no_grad():
    result = model(x)
write_model(model, 16, 24, out, {"arch": "mbt2018-mean", "source": "compressai " + __import__("compressai").__version__})
save_file({"x": x.contiguous(), "x_hat": result["x_hat"].contiguous(),
           "y_likelihoods": result["likelihoods"]["y"].contiguous(),
           "z_likelihoods": result["likelihoods"]["z"].contiguous()},
          os.path.join(out, "io.safetensors"))
print("fixture written to", out)
