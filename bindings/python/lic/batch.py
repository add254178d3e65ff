"""Codes a folder of PNGs in parallel on a Dask cluster: per image a JSON line
(bytes, bpp, PSNR, encode and decode seconds), progress on stderr, a summary.

    python -m lic.batch FOLDER [--model DIR | --descriptor FILE] [--out results.jsonl]
                               [--workers 2] [--address tcp://scheduler:8786]

Without --address a local cluster of --workers processes (one thread each,
LIC_THREADS=1) runs on this machine; with it, the running cluster at that
address does the work - every worker needs the lic package, liblicembed.so
and the model directory at the same path (or a shared filesystem).

Why Dask and not Ray: pure Python and small (a few MB from PyPI, no daemons
to install), a local cluster starts in-process in about a second, and a
remote one is just a scheduler address; Ray's wheel, object store and
dashboard are much heavier than coding images needs on 2-core machines.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Optional

import numpy as np

_codecs: dict = {}


def _codec(model: Optional[str], descriptor: Optional[str]):
    """One codec per worker process and model, opened on first use."""
    import lic
    key = (model, descriptor)
    if key not in _codecs:
        _codecs[key] = lic.Codec(model=model, descriptor=descriptor)
    return _codecs[key]


def code_image(path: str, model: Optional[str], descriptor: Optional[str]) -> dict:
    """Encodes and decodes one PNG; the result row for it (or its error)."""
    from PIL import Image
    try:
        image = np.asarray(Image.open(path))
        if image.dtype != np.uint8:
            raise ValueError(f"{path}: only 8-bit images ({image.dtype})")
        codec = _codec(model, descriptor)
        start = time.perf_counter()
        data = codec.encode(image)
        middle = time.perf_counter()
        decoded = codec.decode(data)
        end = time.perf_counter()
        mse = float(np.mean((decoded.astype(np.float64) - image.astype(np.float64)) ** 2))
        height, width = image.shape[:2]
        return {"image": path, "width": width, "height": height, "bytes": len(data), "bpp": len(data) * 8 / (width * height),
                "psnr": math.inf if mse == 0 else 10 * math.log10(255 ** 2 / mse),
                "encode_s": middle - start, "decode_s": end - middle}
    except Exception as error:  # one bad image must not end the batch
        return {"image": path, "error": str(error)}


def run(folder: str, model: Optional[str], descriptor: Optional[str], out, workers: int = 2,
        address: Optional[str] = None, progress=sys.stderr) -> dict:
    """Codes every PNG of `folder`, writes one JSON line per image to `out` as
    they finish, returns the summary."""
    from distributed import Client, LocalCluster, as_completed
    paths = sorted(str(p) for p in Path(folder).glob("*.png"))
    if not paths:
        raise SystemExit(f"{folder}: no PNG files")
    model = str(Path(model).resolve()) if model else None
    descriptor = str(Path(descriptor).resolve()) if descriptor else None
    cluster = None
    if address is None:
        os.environ.setdefault("LIC_THREADS", "1")  # the worker processes inherit it: one core each
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(address or cluster)
    started = time.perf_counter()
    rows = []
    try:
        futures = client.map(code_image, paths, model=model, descriptor=descriptor, pure=False)
        for done, future in enumerate(as_completed(futures), 1):
            row = future.result()
            rows.append(row)
            out.write(json.dumps(row) + "\n")
            out.flush()
            print(f"\r{done}/{len(paths)} {Path(row['image']).name}", end="", file=progress, flush=True)
        print(file=progress)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    elapsed = time.perf_counter() - started
    good = [r for r in rows if "error" not in r]
    summary = {"images": len(rows), "errors": len(rows) - len(good), "seconds": elapsed,
               "images_per_second": len(rows) / elapsed if elapsed > 0 else None,
               "workers": workers if address is None else "remote"}
    if good:
        summary["bpp"] = sum(r["bpp"] for r in good) / len(good)
        finite = [r["psnr"] for r in good if math.isfinite(r["psnr"])]
        summary["psnr"] = sum(finite) / len(finite) if finite else math.inf
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lic.batch", description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", help="folder of PNG images")
    parser.add_argument("--model", help="learned model directory (model.toml + weights.safetensors)")
    parser.add_argument("--descriptor", help="pipeline descriptor (weightless); neither: the built-in classical pipeline")
    parser.add_argument("--out", help="JSON lines, one per image (default: stdout)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the local cluster (default 2)")
    parser.add_argument("--address", help="a running Dask scheduler (tcp://host:8786) instead of a local cluster")
    args = parser.parse_args(argv)
    if args.model and args.descriptor:
        parser.error("--model or --descriptor, not both")
    try:
        import distributed  # noqa: F401
    except ImportError:
        parser.error("needs Dask: pip install 'dask[distributed]' Pillow (or pip install './bindings/python[batch]')")
    out = open(args.out, "w") if args.out else sys.stdout
    try:
        summary = run(args.folder, args.model, args.descriptor, out, args.workers, args.address)
    finally:
        if args.out:
            out.close()
    print(json.dumps({"summary": summary}), file=sys.stderr)
    return 1 if summary["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
