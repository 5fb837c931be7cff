"""Benchmark: what more compute or more data buys lecture 02's vanilla RNN-LM, against the best n-gram.

    python -m bench.charlm_scaling                  # prints the table (minutes on 2 cores)
    python -m bench.charlm_scaling --write          # also writes bench/charlm_scaling.md and .json

Every run uses lecture 02's recipe (``utils.charlm.train_lm``: carried state, Adam with a one-cycle
schedule, clipping at 1) and the lecture split (``utils.data.SHAKESPEARE_LECTURE_SPLIT``):
validation characters 270k-300k, test 300k-330k. The n-gram is tuned on validation
(``utils.ngram.tune``, orders 1-7); every model is reported on test. "4x data" trains on the
lecture's 270k training characters plus the 810k that follow the test text (1.08M in all), with the
vocabulary of all the text used (a few more rare characters). Lecture 02 prints the JSON this writes.
Timings on shared machines vary; the losses do not (fixed seeds, CPU).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from bench.harness import ROOT
from utils.charlm import CharRNN, evaluate_loss, train_lm
from utils.data import SHAKESPEARE_LECTURE_SPLIT, Vocab, load_char_data, load_corpus
from utils.ngram import tune
from utils.seed import seed_everything

OUT = ROOT / "bench" / "charlm_scaling"


@dataclass
class Run:
    """One model's losses (nats per character) on the lecture's validation and test text."""

    name: str
    data: str           # "1x" (270k training characters) or "4x" (1.08M)
    hidden_size: int | None
    steps: int | None
    val: float
    test: float
    seconds: float


def splits(scale: int):
    """(vocab size, train, val, test) ids: the lecture split, with (scale - 1) x 270k more training text after it."""
    if scale == 1:
        data = load_char_data(**SHAKESPEARE_LECTURE_SPLIT)
        return len(data.vocab), data.train, data.val, data.test
    text = load_corpus("shakespeare", max_chars=330_000 + (scale - 1) * 270_000)
    vocab = Vocab.from_text(text)
    ids = vocab.encode(text)
    train = np.concatenate([ids[:270_000], ids[330_000:]])
    return len(vocab), train, ids[270_000:300_000], ids[300_000:330_000]


def rnn_run(name: str, scale: int, hidden_size: int, steps: int) -> Run:
    V, train, val, test = splits(scale)
    seed_everything(0)
    model = CharRNN(V, hidden_size)
    start = time.perf_counter()
    train_lm(model, train, steps=steps, batch_size=64, seq_len=32, lr=1e-2, live_plot=False, desc=name)
    seconds = time.perf_counter() - start
    return Run(name, f"{scale}x", hidden_size, steps, evaluate_loss(model, val, 1, 512),
               evaluate_loss(model, test, 1, 512), round(seconds, 1))


def ngram_run(scale: int) -> Run:
    V, train, val, test = splits(scale)
    start = time.perf_counter()
    best, _ = tune(train, val, V, orders=range(1, 8))
    name = f"best n-gram ({best.smoothing}, n={best.order})"
    return Run(name, f"{scale}x", None, None, best.cross_entropy(val), best.cross_entropy(test),
               round(time.perf_counter() - start, 1))


def table(runs: list[Run]) -> list[str]:
    rows = ["| model | training text | H | steps | validation (nats/char) | test (nats/char) | test perplexity | seconds |",
            "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in runs:
        rows.append(f"| {r.name} | {r.data} | {r.hidden_size or ''} | {r.steps or ''} | {r.val:.4f} | {r.test:.4f} "
                    f"| {math.exp(r.test):.3f} | {r.seconds:.0f} |")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write bench/charlm_scaling.md and .json")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    plan = [("RNN-LM, the lecture's settings", 1, 256, 900), ("RNN-LM, hidden_size=384", 1, 384, 900),
            ("RNN-LM, steps=3000", 1, 256, 3000), ("RNN-LM, 4x data", 4, 256, 900),
            ("RNN-LM, 4x data, steps=3000", 4, 256, 3000)]
    runs = [ngram_run(1)]
    print(table(runs)[-1], flush=True)
    for name, scale, hidden, steps in plan:
        runs.append(rnn_run(name, scale, hidden, steps))
        print(table(runs)[-1], flush=True)
    runs.append(ngram_run(4))
    rows = table(runs)
    print("\n".join(rows))
    if args.write:
        import platform

        header = [
            "# What more compute or data buys the vanilla RNN-LM (lecture 02)", "",
            "`python -m bench.charlm_scaling --write`. Lecture 02's recipe and split: tuned on the validation "
            "text (characters 270k-300k), reported on the test text (300k-330k). 4x data: 1.08M training "
            f"characters. Machine: {platform.machine()}, torch {torch.__version__}, "
            f"{torch.get_num_threads()} threads; seconds are noisy on a shared machine, the losses are not.", "",
        ]
        OUT.with_suffix(".md").write_text("\n".join(header + rows) + "\n", encoding="utf-8")
        OUT.with_suffix(".json").write_text(json.dumps([asdict(r) for r in runs], indent=1) + "\n", encoding="utf-8")
        print(f"wrote {OUT.with_suffix('.md').relative_to(ROOT)} and .json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
