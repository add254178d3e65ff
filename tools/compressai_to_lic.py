#!/usr/bin/env python3
"""Converts a CompressAI mbt2018-mean (MeanScaleHyperprior) state_dict into
LIC's parameter file (safetensors, float32), for LIC's tensor-engine
implementation of the architecture (Sources/LICModels).

    python3 tools/compressai_to_lic.py --arch mbt2018-mean --N 128 --M 192 \\
        --checkpoint model.pth.tar --out weights.safetensors

Names: "g_a.0.weight" -> "g_a/0.weight" (component/param: the component is
the first part, a pipeline stage);
"entropy_bottleneck._matrix0" -> "eb/matrix0", "entropy_bottleneck.quantiles"
-> "eb/quantiles". GDN beta/gamma are copied in CompressAI's reparametrized
form (LIC applies the same non-negative reparametrization). Buffers that
CompressAI derives for its own coder (_quantized_cdf, _offset, _cdf_length,
scale_table, reparametrization constants) are not copied: LIC builds its own
coding tables. bmshj2018-factorized and -hyperprior are not supported yet.
Needs torch, compressai and safetensors (pip)."""
import argparse
import sys


def lic_name(key):
    if key.startswith("entropy_bottleneck."):
        rest = key[len("entropy_bottleneck."):]
        return "eb/" + rest.lstrip("_")
    component, _, param = key.partition(".")
    return f"{component}/{param}"


def keep(key):
    skipped = ("_quantized_cdf", "_offset", "_cdf_length", "scale_table", "target", "pedestal", "bound")
    return not any(key.endswith(s) or f".{s}" in key for s in skipped)


def convert(state_dict):
    out = {}
    for key, value in state_dict.items():
        if keep(key):
            out[lic_name(key)] = value.detach().float().contiguous().cpu()
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", required=True, choices=["mbt2018-mean"])
    parser.add_argument("--N", type=int, required=True)
    parser.add_argument("--M", type=int, required=True)
    parser.add_argument("--checkpoint", required=True, help="a CompressAI state_dict (.pth/.pth.tar)")
    parser.add_argument("--out", required=True, help="the safetensors file to write")
    args = parser.parse_args()
    try:
        import torch
        from compressai.models import MeanScaleHyperprior
        from safetensors.torch import save_file
    except ImportError as error:
        sys.exit(f"compressai_to_lic: needs torch, compressai and safetensors: {error}")
    checkpoint = torch.load(args.checkpoint, map_location="cpu")
    state = checkpoint.get("state_dict", checkpoint)
    model = MeanScaleHyperprior(args.N, args.M)
    model.load_state_dict(state, strict=False)  # checks names and shapes of what the file has
    weights = convert(model.state_dict())
    save_file(weights, args.out, metadata={"arch": args.arch, "N": str(args.N), "M": str(args.M),
                                           "source": "compressai"})
    print(f"wrote {len(weights)} tensors to {args.out}")


if __name__ == "__main__":
    main()
