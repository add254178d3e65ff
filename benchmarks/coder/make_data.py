"""Writes the Gaussian-conditional coding workload shared by both sides:
64 log-spaced scales (CompressAI's scale table bounds), 2M symbols, each
with a random scale index and a value drawn from that discretized Gaussian.
Files: scales.f64, indexes.i32, symbols.i32 (raw little-endian)."""
import sys, os
import numpy as np

out = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 2_000_000
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(1)
scales = np.exp(np.linspace(np.log(0.11), np.log(256.0), 64))
indexes = rng.integers(0, 64, size=count, dtype=np.int32)
symbols = np.rint(rng.normal(0.0, scales[indexes])).astype(np.int32)
scales.astype("<f8").tofile(os.path.join(out, "scales.f64"))
indexes.astype("<i4").tofile(os.path.join(out, "indexes.i32"))
symbols.astype("<i4").tofile(os.path.join(out, "symbols.i32"))
