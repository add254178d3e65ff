"""CompressAI's MeanScaleHyperprior training step on the shapes of the LIC
benchmark: N=128, M=192, batch 8, 128x128 crops, MSE rate-distortion loss
(lambda 0.0067), Adam 1e-4 (+ aux Adam 1e-3 on the quantiles), clip 1.0,
2 threads. Prints one JSON object: median step time over the timed steps.
Exits 0 with {"skipped": ...} when torch or compressai is missing."""
import json, sys, time

try:
    import torch
    from compressai.models import MeanScaleHyperprior
except ImportError as error:
    print(json.dumps({"skipped": f"needs torch and compressai ({error})"}))
    sys.exit(0)

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 8
N, M, B, P, lmbda = 128, 192, 8, 128, 0.0067
torch.set_num_threads(2)
torch.manual_seed(0)
model = MeanScaleHyperprior(N, M).train()
main_params = [p for n, p in model.named_parameters() if not n.endswith(".quantiles")]
aux_params = [p for n, p in model.named_parameters() if n.endswith(".quantiles")]
optimizer = torch.optim.Adam(main_params, lr=1e-4)
aux_optimizer = torch.optim.Adam(aux_params, lr=1e-3)
x = torch.rand(B, 3, P, P)

def step():
    optimizer.zero_grad()
    aux_optimizer.zero_grad()
    out = model(x)
    bpp = sum(torch.log(l).sum() for l in out["likelihoods"].values()) / (-torch.log(torch.tensor(2.0)) * B * P * P)
    mse = torch.mean((out["x_hat"] - x) ** 2)
    loss = lmbda * 255 ** 2 * mse + bpp
    loss.backward()
    torch.nn.utils.clip_grad_norm_(main_params, 1.0)
    optimizer.step()
    aux_loss = model.aux_loss()
    aux_loss.backward()
    aux_optimizer.step()
    return float(loss)

for _ in range(2):
    step()
times = []
for _ in range(steps):
    start = time.perf_counter()
    step()
    times.append(time.perf_counter() - start)
times.sort()
print(json.dumps({"framework": f"CompressAI / PyTorch {torch.__version__}", "threads": 2,
                  "step_ms": 1000 * times[len(times) // 2], "steps_timed": steps}))
