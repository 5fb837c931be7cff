"""Benchmark: seq2seq on dates and numbers; exact match, BLEU, greedy vs beam, with vs without attention.

    python -m bench.seq2seq                 # writes bench/seq2seq.md
    python -m bench.seq2seq --quick --no-write

Target (issue 10): the attention model reaches >= 99 % exact match on the date test split
within 2 CPU minutes of training. Training runs on one thread, so its CPU time is its wall
time (both are printed). Budgets are in steps; the same seeds and data give the same numbers.
Every figure is measured on the test split, which nothing was tuned on (the settings were
chosen on the validation split).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from utils.seed import seed_everything  # noqa: E402
from utils.seq2seq import (Seq2Seq, Seq2SeqConfig, accuracy_by_length, evaluate, sequence_log_probs,  # noqa: E402
                           train_seq2seq)
from utils.seqdata import make_dates, make_numbers  # noqa: E402

TARGET_EXACT, TARGET_CPU_S = 0.99, 120.0


def train_one(data, attention, steps, seed=0, hidden=64):
    seed_everything(seed)
    model = Seq2Seq(len(data.src_vocab), len(data.tgt_vocab), Seq2SeqConfig(hidden_size=hidden, attention=attention))
    wall, cpu = time.perf_counter(), time.process_time()
    history = train_seq2seq(model, data, steps, batch_size=64, lr=3e-3, seed=seed, live_plot=False,
                            desc=f"{data.name} {attention or 'no attention'}")
    return model, time.perf_counter() - wall, time.process_time() - cpu, history


def by_length_table(data, results, edges):
    """Markdown rows: exact match per source-length bin [edges[i], edges[i+1]) for each model."""
    lengths = [len(s) for s in data.test.sources]
    rows = ["| source length (characters) | examples | " + " | ".join(f"{n}: exact match" for n in results) + " |",
            "|---|---:|" + "---:|" * len(results)]
    for lo, hi in zip(edges[:-1], edges[1:]):
        cells = [accuracy_by_length(lengths, ev.correct, [lo, hi]) for ev in results.values()]
        if len(cells[0][2]):
            rows.append(f"| {lo}-{hi - 1} | {cells[0][2][0]} | " + " | ".join(f"{c[1][0]:.1%}" for c in cells) + " |")
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500, help="training steps per model (batch 64)")
    parser.add_argument("--quick", action="store_true", help="a small smoke run (300 steps, small splits)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "seq2seq.md")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    steps = 300 if args.quick else args.steps
    sizes = (3000, 200, 500) if args.quick else (20_000, 1_000, 2_000)
    beam_limit = 200 if args.quick else 1000
    load = os.getloadavg()
    out = ["# Seq2seq benchmark", "",
           f"`python -m bench.seq2seq` on {platform.machine()}, {os.cpu_count()} cores (training on 1 thread), "
           f"Python {platform.python_version()}, torch {torch.__version__}, {dt.date.today().isoformat()}; "
           f"load average at the start {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1 / 5 / 15 min). "
           f"Splits {sizes[0]:,} / {sizes[1]:,} / {sizes[2]:,} (train / validation / test), split by key "
           f"(the date or the number). Each model: bidirectional GRU encoder (64 per direction), GRU decoder "
           f"(64), {steps} Adam steps of 64 examples, teacher forcing, clipping at 1. "
           f"Exact match: the output equals the reference exactly. BLEU: corpus BLEU-4 over characters "
           f"(utils.bleu, equal to sacrebleu with tokenize='none'), on the test split.", ""]

    dates = make_dates(*sizes, seed=0)
    att, wall, cpu, _ = train_one(dates, "dot", steps)
    greedy = evaluate(att, dates, "test")
    ok = greedy.exact_match >= TARGET_EXACT and cpu <= TARGET_CPU_S
    out += ["## Dates, attention (dot scores): the target", "",
            "| model | training steps | training CPU s | training wall s | test exact match | test BLEU | target (>= 99 % within 120 CPU s) |",
            "|---|---:|---:|---:|---:|---:|---|",
            f"| attention | {steps} | {cpu:.1f} | {wall:.1f} | {greedy.exact_match:.2%} | {greedy.bleu:.2f} | {'met' if ok else 'NOT met'} |", ""]
    print("\n".join(out[-5:]), flush=True)

    bottleneck, wall_b, cpu_b, _ = train_one(dates, None, steps)
    out += ["## Dates: greedy against beam search", "",
            f"First {beam_limit} test examples; alpha = 0 (plain log-probability; every date has 10 characters, "
            f"so length normalisation cannot change a ranking here). Seconds: wall time of the decoding.", "",
            "| model | search | exact match | BLEU | mean log-probability of the output | seconds |",
            "|---|---|---:|---:|---:|---:|"]
    for label, model in [("attention", att), ("no attention", bottleneck)]:
        for name, method, k in [("greedy", "greedy", 1), ("beam k=1", "beam", 1), ("beam k=3", "beam", 3),
                                ("beam k=10", "beam", 10)]:
            start = time.perf_counter()
            ev = evaluate(model, dates, "test", method=method, beam_size=k, limit=beam_limit)
            seconds = time.perf_counter() - start
            lp = float(sequence_log_probs(model, dates, dates.test.sources[:beam_limit], ev.predictions).mean())
            out.append(f"| {label} | {name} | {ev.exact_match:.2%} | {ev.bleu:.2f} | {lp:.4f} | {seconds:.1f} |")
            print(out[-1], flush=True)
    out.append("")

    plain = evaluate(bottleneck, dates, "test")
    out += ["## Dates: with against without attention, by source length", "",
            f"Without attention (the encoder's final state is all the decoder gets): exact match "
            f"{plain.exact_match:.2%}, BLEU {plain.bleu:.2f} ({cpu_b:.1f} CPU s); with attention "
            f"{greedy.exact_match:.2%}, BLEU {greedy.bleu:.2f}. Greedy decoding.", ""]
    out += by_length_table(dates, {"attention": greedy, "no attention": plain}, list(range(10, 46, 5)))
    out.append("")
    print("\n".join(out[-12:]), flush=True)

    numbers = make_numbers(*sizes, seed=0)
    num_results = {}
    for attention in ("dot", None):
        model, wall_n, cpu_n, _ = train_one(numbers, attention, steps)
        ev = evaluate(model, numbers, "test")
        num_results["attention" if attention else "no attention"] = ev
        print(f"numbers, {attention}: {ev} ({cpu_n:.1f} CPU s)", flush=True)
    out += ["## Numbers in words: with against without attention, by source length", "",
            "Languages en, fr, de, es, it; 1 to 6 digits. " + "; ".join(
                f"{n}: exact match {ev.exact_match:.2%}, BLEU {ev.bleu:.2f}" for n, ev in num_results.items()) + ".", ""]
    out += by_length_table(numbers, num_results, list(range(0, 91, 10)))
    out.append("")
    print("\n".join(out[-14:]), flush=True)

    report = "\n".join(out)
    if not args.no_write:
        args.out.write_text(report, encoding="utf-8")
        print(f"wrote {args.out.relative_to(ROOT)}")
    return 0 if ok or args.quick else 1


if __name__ == "__main__":
    sys.exit(main())
