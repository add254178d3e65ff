#!/usr/bin/env python3
"""Join the train.jsonl of a run started with `lic train --init MODEL` onto MODEL's own log.

A model trained in several runs (each `--init` from the last one's weights)
keeps one learning curve: the new run's records get the previous log's last
step and elapsed seconds added, and "run": the previous log's last run + 1
(a log without "run" counts as run 1). Records are kept every --every steps
(after the offset), which keeps a shipped model's log small; the new run's
last record is always kept. Writes the joined log to stdout. Standard library
only.

    python3 tools/continue_train_log.py models/X/train.jsonl OUT/train.jsonl --every 50 > joined.jsonl
"""
from __future__ import annotations

import argparse
import json
import sys


def read(path: str) -> list:
    records = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise SystemExit(f"{path}:{number}: not a JSON object ({error.msg})")
            if not isinstance(records[-1], dict) or "step" not in records[-1] or "elapsed_s" not in records[-1]:
                raise SystemExit(f"{path}:{number}: a training record needs 'step' and 'elapsed_s'")
    if not records:
        raise SystemExit(f"{path}: no training records")
    return records


def join(previous: list, new: list, every: int) -> list:
    last = previous[-1]
    step0, elapsed0, run = last["step"], last["elapsed_s"], last.get("run", 1) + 1
    joined = []
    for index, record in enumerate(new):
        shifted = dict(record, step=record["step"] + step0, elapsed_s=record["elapsed_s"] + elapsed0, run=run)
        if shifted["step"] % every == 0 or index == len(new) - 1:
            joined.append(shifted)
    return previous + joined


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("previous", help="the model's train.jsonl (the runs so far)")
    parser.add_argument("new", help="train.jsonl of the run that continued from it with --init")
    parser.add_argument("--every", type=int, default=50, help="keep one record per this many steps (default 50)")
    args = parser.parse_args(argv)
    if args.every < 1:
        parser.error("--every must be at least 1")
    for record in join(read(args.previous), read(args.new), args.every):
        sys.stdout.write(json.dumps(record, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
