#!/usr/bin/env python3
"""Converts a CompressAI mbt2018-mean (MeanScaleHyperprior) state_dict into a
LIC model directory: model.toml (the pipeline, as
examples/pipelines/mbt2018-mean.toml with the given N and M) and
weights.safetensors (float32). `lic encode/decode/eval --model DIR` then
code real files with it through LIC's plugins and entropy coder.

    python3 tools/compressai_to_lic.py --arch mbt2018-mean --N 128 --M 192 \\
        --checkpoint model.pth.tar --out MODEL_DIR

Names: the module becomes the pipeline stage, the rest the parameter:
g_a.0.weight -> analysis/0.weight, g_s -> synthesis, h_a -> hyper.analysis,
h_s -> hyper.synthesis, entropy_bottleneck.matrices.0 ->
hyper.entropy/matrices.0 (quantiles likewise). GDN beta/gamma are copied in
CompressAI's reparametrized form (LIC applies the same reparametrization).
Buffers CompressAI derives for its own coder (_quantized_cdf, _offset,
_cdf_length, scale_table) and reparametrization constants are not copied:
LIC builds its own coding tables. bmshj2018-factorized and -hyperprior are
not supported yet. Needs torch, compressai and safetensors (pip)."""
import argparse
import os
import sys

STAGES = {"g_a": "analysis", "g_s": "synthesis", "h_a": "hyper.analysis", "h_s": "hyper.synthesis",
          "entropy_bottleneck": "hyper.entropy"}
SKIPPED = ("_quantized_cdf", "_offset", "_cdf_length", "scale_table", "target", "pedestal", "bound")


def lic_name(key):
    module, _, param = key.partition(".")
    return f"{STAGES[module]}/{param.lstrip('_')}"


def keep(key):
    return key.partition(".")[0] in STAGES and not any(key.endswith(s) or f".{s}" in key for s in SKIPPED)


def convert(state_dict):
    return {lic_name(k): v.detach().float().contiguous().cpu() for k, v in state_dict.items() if keep(k)}


def descriptor(n, m):
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "examples", "pipelines", "mbt2018-mean.toml")) as f:
        text = f.read()
    return text.replace("channels = 128", f"channels = {n}").replace("latent = 192", f"latent = {m}")


def write_model(model, n, m, out, metadata):
    from safetensors.torch import save_file
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "model.toml"), "w") as f:
        f.write(descriptor(n, m))
    weights = convert(model.state_dict())
    save_file(weights, os.path.join(out, "weights.safetensors"), metadata=metadata)
    return weights


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", required=True, choices=["mbt2018-mean"])
    parser.add_argument("--N", type=int, required=True)
    parser.add_argument("--M", type=int, required=True)
    parser.add_argument("--checkpoint", required=True, help="a CompressAI state_dict (.pth/.pth.tar)")
    parser.add_argument("--out", required=True, help="the model directory to write")
    args = parser.parse_args()
    try:
        import torch
        from compressai.models import MeanScaleHyperprior
    except ImportError as error:
        sys.exit(f"compressai_to_lic: needs torch, compressai and safetensors: {error}")
    checkpoint = torch.load(args.checkpoint, map_location="cpu")
    state = checkpoint.get("state_dict", checkpoint)
    model = MeanScaleHyperprior(args.N, args.M)
    model.load_state_dict(state, strict=False)  # names and shapes are checked against the architecture
    weights = write_model(model, args.N, args.M, args.out, {"arch": args.arch, "source": "compressai"})
    print(f"wrote {args.out}/model.toml and {len(weights)} tensors to {args.out}/weights.safetensors")


if __name__ == "__main__":
    main()
