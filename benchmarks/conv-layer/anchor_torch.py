"""PyTorch anchor for one convolution layer: torch.nn.functional.conv2d,
192 -> 192 channels, 5x5, stride 2, padding 2, input 1x192x128x128, float32,
on 2 threads. Times the forward pass, the input gradient (backward data) and
the weight gradient (backward weights, with the bias gradient) separately,
median of 20 runs after 3 warm-up runs, and prints one JSON object.

FLOPs per pass: 2 * N * OC * OH * OW * (IC / groups) * KH * KW
(= 7.55 GFLOP here); gflops_* = that / median time.

Exits 0 printing {"skipped": "..."} when torch is not installed.
Usage: python3 anchor_torch.py [runs] [threads]
"""
import json
import statistics
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print(json.dumps({"skipped": "torch is not installed (pip install torch)"}))
    sys.exit(0)

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
THREADS = int(sys.argv[2]) if len(sys.argv) > 2 else 2
WARMUP = 3
N, IC, OC, H, W, K, STRIDE, PAD = 1, 192, 192, 128, 128, 5, 2, 2

torch.set_num_threads(THREADS)
torch.manual_seed(0)
x = torch.rand(N, IC, H, W) * 2 - 1
w = (torch.rand(OC, IC, K, K) * 2 - 1) * 0.01
b = torch.rand(OC) * 2 - 1
OH = (H + 2 * PAD - K) // STRIDE + 1
OW = (W + 2 * PAD - K) // STRIDE + 1
dy = torch.rand(N, OC, OH, OW) * 2 - 1
flops = 2 * N * OC * OH * OW * IC * K * K


def median_ms(fn):
    for _ in range(WARMUP):
        fn()
    times = []
    for _ in range(RUNS):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def forward():
    with torch.no_grad():
        F.conv2d(x, w, b, stride=STRIDE, padding=PAD)


def backward_data():
    # The input gradient alone, as autograd computes it.
    torch.nn.grad.conv2d_input(x.shape, w, dy, stride=STRIDE, padding=PAD)


def backward_weights():
    torch.nn.grad.conv2d_weight(x, w.shape, dy, stride=STRIDE, padding=PAD)
    dy.sum(dim=(0, 2, 3))  # bias gradient


def backward_autograd():
    # Both gradients through autograd in one call (what a training step does).
    xg = x.detach().requires_grad_(True)
    wg = w.detach().requires_grad_(True)
    bg = b.detach().requires_grad_(True)
    y = F.conv2d(xg, wg, bg, stride=STRIDE, padding=PAD)
    y.backward(dy)


forward_ms = median_ms(forward)
backward_data_ms = median_ms(backward_data)
backward_weights_ms = median_ms(backward_weights)
autograd_ms = median_ms(backward_autograd)
print(json.dumps({
    "layer": f"conv2d {IC}->{OC} {K}x{K} stride {STRIDE} padding {PAD}, input {N}x{IC}x{H}x{W}",
    "torch": torch.__version__,
    "threads": torch.get_num_threads(),
    "mkldnn": torch.backends.mkldnn.is_available(),
    "runs": RUNS,
    "gflop_per_pass": flops / 1e9,
    "forward_ms": forward_ms,
    "backward_data_ms": backward_data_ms,
    "backward_weights_ms": backward_weights_ms,
    "forward_plus_backward_autograd_ms": autograd_ms,
    "gflops_forward": flops / forward_ms / 1e6,
    "gflops_backward_data": flops / backward_data_ms / 1e6,
    "gflops_backward_weights": flops / backward_weights_ms / 1e6,
}))
