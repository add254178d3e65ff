#!/usr/bin/env python3
"""Reference values and gradients of the regularizers in Plugins/Learned,
computed once with PyTorch (float64) on fixed small tensors and committed as
Tests/LICCoreTests/Fixtures/regularizers/reference.json, which
RegularizerReferenceTests compares against.

    python3 tools/regularizer_reference.py Tests/LICCoreTests/Fixtures/regularizers/reference.json

The formulas are written independently of the Swift code: the correlation
map from unfolded windows with validity masks (not shifted slices), and q's
probabilities as Phi(upper) - Phi(lower) with infinite end bins (not the
reflected form); the CCA term's auxiliary model slice by slice from its
support list, its Gaussian as Phi(v - mu + 0.5) - Phi(v - mu - 0.5) (not the
folded |v - mu| form)."""
import json
import math
import sys

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    sys.exit("regularizer_reference.py needs PyTorch: pip install -r tools/requirements-regularizer-reference.txt "
             "--index-url https://download.pytorch.org/whl/cpu")

torch.manual_seed(20241125)
DOUBLE = torch.float64


def f32(t):
    """Values representable in float32 (what the Swift side holds), as float64."""
    return t.to(torch.float32).to(DOUBLE)


def flat(t, digits=9):
    return [float(f"{v:.{digits}g}") for v in t.detach().reshape(-1).tolist()]


# ---------------------------------------------------------------- correlation

def correlation_loss(y, means, scales, window, border, channels, mask):
    n = (y - means) / scales
    b, c, h, w = n.shape
    r = window // 2
    # Each position's k x k window (zeros outside), and which entries are inside.
    windows = F.unfold(n, window, padding=r).reshape(b, c, window * window, h * w)
    inside = F.unfold(torch.ones(1, 1, h, w, dtype=DOUBLE), window, padding=r).reshape(1, 1, window * window, h * w)
    centres = n.reshape(b, c, 1, h * w)
    products = centres * windows                       # [b, c, k*k, positions]
    if border == "overlap":
        weight = inside                                 # every pair inside
    elif border == "valid":
        full = (inside.sum(dim=2, keepdim=True) == window * window).to(DOUBLE)
        weight = full.expand_as(inside)                 # only centres whose window fits
    else:
        weight = torch.ones_like(inside)                # zero padding, all positions
    sums = (products * weight).sum(dim=3)               # [b, c, k*k]
    counts = weight.sum(dim=3) * b                      # per channel
    if channels == "average-map":
        cmap = sums.sum(dim=(0, 1)) / (counts[0, 0] * c)
    else:
        cmap = sums.sum(dim=0) / counts[0]              # [c, k*k]
    cmap = torch.where(counts[0, 0] > 0, cmap, torch.zeros_like(cmap))
    if mask == "point":
        keep = torch.ones(window * window, dtype=DOUBLE)
        keep[(window * window) // 2] = 0
        cmap = cmap * keep
    squares = cmap ** 2
    return squares.sum() if channels == "average-map" else squares.sum(dim=-1).mean()


def correlation_cases():
    shape = [2, 3, 6, 7]
    y = f32(torch.randn(shape) * 2)
    means = f32(torch.randn(shape) * 0.5)
    scales = f32(torch.rand(shape) * 1.5 + 0.2)
    # Correlated along rows so the off-centre map entries are far from zero.
    y = f32(y + 0.8 * torch.roll(y, 1, dims=3))
    cases = []
    for params in [
        {"window": 5, "border": "overlap", "channels": "average-map", "mask": "point"},
        {"window": 3, "border": "valid", "channels": "average-map", "mask": "point"},
        {"window": 5, "border": "zeros", "channels": "average-loss", "mask": "none"},
        {"window": 7, "border": "overlap", "channels": "average-loss", "mask": "point"},
    ]:
        inputs = [t.clone().requires_grad_(True) for t in (y, means, scales)]
        value = correlation_loss(*inputs, **params)
        value.backward()
        cases.append({"params": params, "value": value.item(),
                      "grad_y": flat(inputs[0].grad, 12), "grad_means": flat(inputs[1].grad, 12),
                      "grad_scales": flat(inputs[2].grad, 12)})
    return {"shape": shape, "y": flat(y), "means": flat(means), "scales": flat(scales), "cases": cases}


# -------------------------------------------------------- conditional entropy

def mask_a(out_channels, in_channels):
    mask = torch.zeros(5, 5, dtype=DOUBLE)
    mask[:2, :] = 1
    mask[2, :2] = 1
    return mask.expand(out_channels, in_channels, 5, 5)


def conditional_entropy(x, x_hat, weights, layers, kernel, context, scale_bound, bit_depth, unit):
    half = 0.5 / (2 ** bit_depth - 1)
    h = x_hat
    for index in range(layers):
        h = F.conv2d(h, weights[f"{index}.weight"], weights[f"{index}.bias"], padding=kernel // 2)
        if index == 0 and context:
            h = h + F.conv2d(x, weights["context.weight"] * mask_a(*weights["context.weight"].shape[:2]), padding=2)
        if index < layers - 1:
            h = F.leaky_relu(h, 0.01)
    c = x.shape[1]
    mu = x_hat + h[:, :c]
    sigma = torch.exp(h[:, c:]).clamp_min(scale_bound)
    normal = torch.distributions.Normal(torch.zeros((), dtype=DOUBLE), torch.ones((), dtype=DOUBLE))
    # The end bins reach to -inf / +inf; every branch stays finite so that
    # torch.where's gradients carry no NaN.
    bottom, top = x <= half, x >= 1 - half
    above = normal.cdf((x + half - mu) / sigma)
    below = normal.cdf((x - half - mu) / sigma)
    p = torch.where(bottom, above, torch.where(top, 1 - below, above - below))
    assert p.min() > 1e-6, f"{p.min()}: a probability near the floor: the floor's gradient differs between the engines"
    bits = -torch.log2(p)
    b, _, hh, ww = x.shape
    return bits.sum() / (b * hh * ww) if unit == "pixel" else bits.mean()


def conditional_entropy_cases():
    shape = [2, 3, 5, 6]
    x = torch.randint(0, 256, shape).to(DOUBLE)
    x[0, 0, 0, :3] = 0
    x[1, 2, 4, 3:] = 255
    x = f32(x / 255)
    x_hat = f32(x + 0.01 * torch.randn(shape))
    cases = []
    for params in [
        {"image_channels": 3, "channels": 4, "layers": 2, "kernel": 3, "context": False, "unit": "pixel"},
        {"image_channels": 3, "channels": 5, "layers": 3, "kernel": 3, "context": True, "unit": "subpixel"},
        {"image_channels": 3, "channels": 4, "layers": 1, "kernel": 5, "context": True, "unit": "pixel"},
    ]:
        layers, kernel, hidden, c = params["layers"], params["kernel"], params["channels"], shape[1]
        weights = {}
        for index in range(layers):
            cin = c if index == 0 else hidden
            cout = 2 * c if index == layers - 1 else hidden
            bound = 1 / math.sqrt(cin * kernel * kernel)
            weight = (torch.rand(cout, cin, kernel, kernel) * 2 - 1) * bound
            bias = (torch.rand(cout) * 2 - 1) * bound
            if index == layers - 1:
                # Small mean offsets and scales of several grey levels,
                # so every probability stays far above the 1e-9 floor.
                weight[:c] *= 0.05
                weight[c:] *= 0.2
                bias[:c] *= 0.05
                bias[c:] += math.log(0.03)
            weights[f"{index}.weight"] = f32(weight)
            weights[f"{index}.bias"] = f32(bias)
        if params["context"]:
            out = hidden if layers > 1 else 2 * c
            weights["context.weight"] = f32((torch.rand(out, c, 5, 5) * 2 - 1) * 0.02)
        scale_bound, bit_depth = 0.11 / 255, 8
        # The codec's term (-H_hat) and its gradient with respect to x_hat.
        x_hat_leaf = x_hat.clone().requires_grad_(True)
        term = -conditional_entropy(x, x_hat_leaf, weights, layers, kernel, params["context"], scale_bound, bit_depth, params["unit"])
        term.backward()
        # The fitting loss (H_hat) and its gradient with respect to q's parameters.
        leaves = {k: v.clone().requires_grad_(True) for k, v in weights.items()}
        fit = conditional_entropy(x, x_hat, leaves, layers, kernel, params["context"], scale_bound, bit_depth, params["unit"])
        fit.backward()
        cases.append({"params": params, "term": term.item(), "fit": fit.item(), "grad_x_hat": flat(x_hat_leaf.grad, 12),
                      "weights": {k: {"shape": list(v.shape), "values": flat(v)} for k, v in weights.items()},
                      "grad_weights": {k: flat(v.grad, 12) for k, v in leaves.items()}})
    return {"shape": shape, "x": flat(x), "x_hat": flat(x_hat), "cases": cases}


# ------------------------------------------------------------------------ cca

def slice_net(h, weights, prefix):
    """Five 3x3 convolutions with GELU between (SliceTransform)."""
    for j in range(5):
        h = F.conv2d(h, weights[f"{prefix}.{2 * j}.weight"], weights[f"{prefix}.{2 * j}.bias"], padding=1)
        if j < 4:
            h = F.gelu(h)
    return h


def factorized_likelihood(values, weights):
    """EntropyBottleneck's density over [C, 1, K]: P(v - 0.5 < Y < v + 0.5)."""
    def logits(v):
        for i in range(5):
            v = torch.matmul(F.softplus(weights[f"entropy_bottleneck.matrices.{i}"]), v) + weights[f"entropy_bottleneck.biases.{i}"]
            if i < 4:
                v = v + torch.tanh(weights[f"entropy_bottleneck.factors.{i}"]) * torch.tanh(v)
        return v
    return torch.sigmoid(logits(values + 0.5)) - torch.sigmoid(logits(values - 0.5))


def cca_loss(x_shape, y, y_hat, params, main, weights, sizes, alpha, aux2_values):
    b, m, h, w = y_hat.shape
    scales_h, means_h = params[:, :m], params[:, m:]
    normal = torch.distributions.Normal(torch.zeros((), dtype=DOUBLE), torch.ones((), dtype=DOUBLE))
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    mus, sigmas = [], []
    for i, size in enumerate(sizes):
        support = [y_hat[:, :starts[i - 1]]] if i >= 2 else []   # slices 0..i-2
        mus.append(slice_net(torch.cat([means_h] + support, dim=1), weights, f"cc_mean_transforms.{i}"))
        sigmas.append(slice_net(torch.cat([scales_h] + support, dim=1), weights, f"cc_scale_transforms.{i}"))
    mu, sigma = torch.cat(mus, dim=1), torch.cat(sigmas, dim=1)
    assert sigma.min() > 0.11, "a scale at the lower bound: the bound's gradient differs between the engines"

    def p_aux(v):
        return normal.cdf((v - mu + 0.5) / sigma) - normal.cdf((v - mu - 0.5) / sigma)
    pixels = b * x_shape[2] * x_shape[3]
    aux = p_aux(y_hat)
    cca = (-torch.log2(main).sum() + torch.log2(aux).sum()) / pixels
    v = y_hat if aux2_values == "y_hat" else y
    fact = factorized_likelihood(v.permute(1, 0, 2, 3).reshape(m, 1, -1), weights)
    for p in (aux, p_aux(v), fact):
        assert p.min() > 1e-6, f"{p.min()}: a probability near the floor: the floor's gradient differs between the engines"
    aux2 = (p_aux(v) * -torch.log2(fact).reshape(m, b, h, w).permute(1, 0, 2, 3)).sum() / pixels
    return alpha * cca + aux2, cca, aux2


def cca_cases():
    g = torch.Generator().manual_seed(20241004)
    shape, x_shape, groups = [2, 8, 3, 4], [2, 3, 12, 16], "1,1,2,4"
    sizes = [int(s) for s in groups.split(",")]
    m = shape[1]
    y = f32(torch.randn(shape, generator=g, dtype=DOUBLE) * 1.5)
    y_hat = f32(torch.round(y) + 0.2 * torch.rand(shape, generator=g, dtype=DOUBLE) - 0.1)   # rounded, LRP-like shifts
    params = f32(torch.cat([torch.rand([2, m, 3, 4], generator=g, dtype=DOUBLE) * 2 + 0.2,
                            torch.randn([2, m, 3, 4], generator=g, dtype=DOUBLE)], dim=1))
    main = f32(torch.rand(shape, generator=g, dtype=DOUBLE) * 0.8 + 0.1)
    hidden = [max(1, c * m // 320) for c in (224, 176, 128, 64)]
    weights = {}
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    for kind in ("mean", "scale"):
        for i, size in enumerate(sizes):
            channels = [m + (starts[i - 1] if i >= 2 else 0)] + hidden + [size]
            for j in range(5):
                bound = 1 / math.sqrt(channels[j] * 9)
                weight = (torch.rand(channels[j + 1], channels[j], 3, 3, generator=g, dtype=DOUBLE) * 2 - 1) * bound
                bias = (torch.rand(channels[j + 1], generator=g, dtype=DOUBLE) * 2 - 1) * bound
                if kind == "scale" and j == 4:
                    bias = bias + 1.2   # scales well above the 0.11 bound
                weights[f"cc_{kind}_transforms.{i}.{2 * j}.weight"] = f32(weight)
                weights[f"cc_{kind}_transforms.{i}.{2 * j}.bias"] = f32(bias)
    filters, scale = [1, 3, 3, 3, 3, 1], 10 ** (1 / 5)
    for i in range(5):
        fin, fout = filters[i], filters[i + 1]
        init = math.log(math.expm1(1 / scale / fout))
        weights[f"entropy_bottleneck.matrices.{i}"] = f32(init + 0.1 * torch.randn(m, fout, fin, generator=g, dtype=DOUBLE))
        weights[f"entropy_bottleneck.biases.{i}"] = f32(torch.rand(m, fout, 1, generator=g, dtype=DOUBLE) - 0.5)
        if i < 4:
            weights[f"entropy_bottleneck.factors.{i}"] = f32(0.3 * torch.randn(m, fout, 1, generator=g, dtype=DOUBLE))
    cases = []
    for case in [{"alpha": 1.0, "aux2_values": "y_hat"}, {"alpha": 0.5, "aux2_values": "y"}]:
        inputs = {k: t.clone().requires_grad_(True) for k, t in (("y", y), ("y_hat", y_hat), ("params", params), ("main", main))}
        leaves = {k: v.clone().requires_grad_(True) for k, v in weights.items()}
        loss, cca, aux2 = cca_loss(x_shape, inputs["y"], inputs["y_hat"], inputs["params"], inputs["main"], leaves, sizes,
                                   case["alpha"], case["aux2_values"])
        loss.backward()
        grads = {k: flat(t.grad if t.grad is not None else torch.zeros_like(t), 12) for k, t in inputs.items()}
        cases.append({"params": dict(case, latent=m, groups=groups), "value": loss.item(), "cca": cca.item(), "aux2": aux2.item(),
                      "grads": grads, "grad_weights": {k: flat(v.grad, 12) for k, v in leaves.items()}})
    return {"shape": shape, "x_shape": x_shape, "y": flat(y), "y_hat": flat(y_hat), "params": flat(params), "main": flat(main),
            "weights": {k: {"shape": list(v.shape), "values": flat(v)} for k, v in weights.items()}, "cases": cases}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    document = {"source": f"tools/regularizer_reference.py, torch {torch.__version__}, float64",
                "correlation": correlation_cases(), "conditional_entropy": conditional_entropy_cases(),
                "cca": cca_cases()}
    with open(sys.argv[1], "w") as out:
        json.dump(document, out, separators=(",", ":"))
        out.write("\n")
    print("written", sys.argv[1])
