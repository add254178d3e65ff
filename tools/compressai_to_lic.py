#!/usr/bin/env python3
"""Converts a CompressAI state_dict (bmshj2018-factorized = FactorizedPrior,
bmshj2018-hyperprior = ScaleHyperprior, mbt2018-mean = MeanScaleHyperprior,
mbt2018 = JointAutoregressiveHierarchicalPriors, cheng2020-anchor-checkerboard
= Cheng2020AnchorCheckerboard, whose latent has N channels: give --M N,
elic2022-official = Elic2022Official, channel groups from --groups or
CompressAI's default [16, 16, 32, 64, M - 128])
into a LIC model directory: model.toml (the pipeline, as
examples/pipelines/ARCH.toml with the given N and M) and weights.safetensors
(float32). `lic encode/decode/eval --model DIR` then code real files with it
through LIC's plugins and entropy coder.

    python3 tools/compressai_to_lic.py --arch mbt2018-mean --N 128 --M 192 \\
        --checkpoint model.pth.tar --out MODEL_DIR

Names: the module becomes the pipeline stage, the rest the parameter:
g_a.0.weight -> analysis/0.weight, g_s -> synthesis, h_a -> hyper.analysis,
h_s -> hyper.synthesis, entropy_bottleneck.matrices.0 ->
hyper.entropy/matrices.0 (quantiles likewise; for bmshj2018-factorized the
bottleneck is the [entropy] stage); mbt2018's context_prediction and
entropy_parameters keep their names inside the [entropy] stage (the
latent-codec models' latent_codec.hyper.* and latent_codec.y.* prefixes are
dropped first)
(entropy/context_prediction.weight, entropy/entropy_parameters.0.weight, ...;
its mask is a constant LIC rebuilds). Elic2022Official's entropy model
becomes lic.entropy.channelwise with network = "elic":
channel_context.yK.J -> entropy/channel_context.K.J,
latent_codec.yK.context_prediction -> entropy/spatial_context.K (the
checkerboard mask applied to the weight), latent_codec.yK.entropy_parameters.J
-> entropy/param_aggregation.K.J. GDN beta/gamma are copied in
CompressAI's reparametrized form (LIC applies the same reparametrization).
Buffers CompressAI derives for its own coder (_quantized_cdf, _offset,
_cdf_length, scale_table) and reparametrization constants are not copied:
LIC builds its own coding tables. Needs torch, compressai (1.2.8 is the version
the fixtures and parity runs use) and safetensors from pip:
    pip install -r tools/requirements-compressai.txt"""
import argparse
import os
import re
import sys

ARCHITECTURES = ["bmshj2018-factorized", "bmshj2018-hyperprior", "mbt2018-mean", "mbt2018", "cheng2020-anchor-checkerboard",
                 "elic2022-official"]
# Prefixes of CompressAI's latent-codec models, dropped before mapping.
LATENT_CODEC_PREFIXES = ("latent_codec.hyper.", "latent_codec.y.")
# Modules that keep their own name inside a stage: (module, stage).
NESTED = {"context_prediction": "entropy", "entropy_parameters": "entropy"}


def stages(arch):
    bottleneck = "entropy" if arch == "bmshj2018-factorized" else "hyper.entropy"
    return {"g_a": "analysis", "g_s": "synthesis", "h_a": "hyper.analysis", "h_s": "hyper.synthesis",
            "entropy_bottleneck": bottleneck}


def model_class(arch):
    """A constructor taking (N, M, groups), as CompressAI's models take (N, M) (cheng2020's takes N alone; M must
    equal N); groups: Elic2022Official's channel groups (None: its default), refused by the others."""
    from compressai.models import (Cheng2020AnchorCheckerboard, Elic2022Official, FactorizedPrior,
                                   JointAutoregressiveHierarchicalPriors, MeanScaleHyperprior, ScaleHyperprior)

    def cheng2020(n, m):
        if n != m:
            sys.exit(f"compressai_to_lic: cheng2020-anchor-checkerboard's latent has N channels: give --M {n}, not {m}")
        return Cheng2020AnchorCheckerboard(n)

    def elic(n, m, groups=None):
        groups = groups or elic_groups(m)
        if sum(groups) != m or min(groups) < 1:
            sys.exit(f"compressai_to_lic: elic2022-official's groups {groups} must be positive and sum to M = {m}")
        return Elic2022Official(n, m, groups=groups)
    constructor = {"bmshj2018-factorized": FactorizedPrior, "bmshj2018-hyperprior": ScaleHyperprior,
                   "mbt2018-mean": MeanScaleHyperprior, "mbt2018": JointAutoregressiveHierarchicalPriors,
                   "cheng2020-anchor-checkerboard": cheng2020}.get(arch)
    if constructor is None:
        return elic

    def without_groups(n, m, groups=None):
        if groups:
            sys.exit(f"compressai_to_lic: --groups is for elic2022-official, not {arch}")
        return constructor(n, m)
    return without_groups


def elic_groups(m):
    """CompressAI's default Elic2022Official groups [16, 16, 32, 64, M - 128]."""
    if m <= 128:
        sys.exit(f"compressai_to_lic: elic2022-official's default groups need M > 128 (got {m}); give --groups")
    return [16, 16, 32, 64, m - 128]


# Elic2022Official's entropy-model modules (after the latent_codec.y. prefix): pattern -> LIC name in [entropy].
ELIC_ENTROPY = [(re.compile(r"channel_context\.y(\d+)\.(.*)"), r"channel_context.\1.\2"),
                (re.compile(r"latent_codec\.y(\d+)\.context_prediction\.(weight|bias)"), r"spatial_context.\1.\2"),
                (re.compile(r"latent_codec\.y(\d+)\.entropy_parameters\.(.*)"), r"param_aggregation.\1.\2")]
SKIPPED = ("_quantized_cdf", "_offset", "_cdf_length", "scale_table", "target", "pedestal", "bound", "mask")


def convert(state_dict, arch):
    names = stages(arch)
    out = {}
    for full_key, value in state_dict.items():
        key = full_key
        for prefix in LATENT_CODEC_PREFIXES:
            if key.startswith(prefix):
                key = key[len(prefix):]
        elic = [pattern.sub(name, key) for pattern, name in ELIC_ENTROPY if pattern.fullmatch(key)]
        if elic:
            if elic[0].startswith("spatial_context") and key.endswith(".weight"):
                value = value * state_dict[full_key[:-len("weight")] + "mask"]
            out[f"entropy/{elic[0]}"] = value.detach().float().contiguous().cpu()
            continue
        module, _, param = key.partition(".")
        if any(key.endswith(s) or f".{s}" in key for s in SKIPPED):
            continue
        if module in NESTED:
            out[f"{NESTED[module]}/{key}"] = value.detach().float().contiguous().cpu()
        elif module in names:
            out[f"{names[module]}/{param.lstrip('_')}"] = value.detach().float().contiguous().cpu()
    return out


def descriptor(arch, n, m, groups=None):
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "examples", "pipelines", f"{arch}.toml")) as f:
        text = f.read()
    # One pass, so a replaced value is never replaced again (e.g. M = 128).
    if arch == "elic2022-official":
        groups = ",".join(map(str, groups or elic_groups(m)))
        sizes = {"channels = 192": f"channels = {n}", "latent = 320": f"latent = {m}",
                 "hyper_channels = 384": f"hyper_channels = {2 * n}", 'groups = "16,16,32,64,192"': f'groups = "{groups}"'}
    else:
        sizes = {"channels = 128": f"channels = {n}", "channels = 192": f"channels = {m}", "latent = 192": f"latent = {m}"}
    return re.sub("|".join(re.escape(k) for k in sizes), lambda match: sizes[match.group(0)], text)


def write_model(model, arch, n, m, out, metadata, groups=None):
    from safetensors.torch import save_file
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "model.toml"), "w") as f:
        f.write(descriptor(arch, n, m, groups))
    weights = convert(model.state_dict(), arch)
    save_file(weights, os.path.join(out, "weights.safetensors"), metadata=metadata)
    return weights


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", required=True, choices=ARCHITECTURES)
    parser.add_argument("--N", type=int, required=True)
    parser.add_argument("--M", type=int, required=True)
    parser.add_argument("--groups", help="elic2022-official's channel groups, e.g. 16,16,32,64,192 (default: CompressAI's)")
    parser.add_argument("--checkpoint", required=True, help="a CompressAI state_dict (.pth/.pth.tar)")
    parser.add_argument("--out", required=True, help="the model directory to write")
    args = parser.parse_args()
    try:
        import safetensors  # noqa: F401  (write_model needs it; say so before the work)
        import torch
        architecture = model_class(args.arch)
    except ImportError as error:
        sys.exit(f"compressai_to_lic: needs torch, compressai and safetensors (pip install -r tools/requirements-compressai.txt): {error}")
    checkpoint = torch.load(args.checkpoint, map_location="cpu")
    state = checkpoint.get("state_dict", checkpoint)
    # Checkpoints saved from DataParallel prefix every key with "module.".
    state = {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}
    try:
        groups = [int(g) for g in args.groups.split(",")] if args.groups else None
    except ValueError:
        sys.exit(f"compressai_to_lic: --groups {args.groups!r} is not a comma-separated list of channel counts")
    model = architecture(args.N, args.M, groups)
    try:
        model.load_state_dict(state, strict=True)  # every parameter present, nothing unknown, shapes right
    except RuntimeError as error:
        sys.exit(f"compressai_to_lic: {args.checkpoint} is not a {args.arch} with N={args.N}, M={args.M}: {error}")
    weights = write_model(model, args.arch, args.N, args.M, args.out, {"arch": args.arch, "source": "compressai"}, groups)
    print(f"wrote {args.out}/model.toml and {len(weights)} tensors to {args.out}/weights.safetensors")


if __name__ == "__main__":
    main()
