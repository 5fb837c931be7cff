"""Benchmark: RNN, LSTM and GRU character language models, a fixed step budget each; held-out loss vs wall time.

    python -m bench.charlm                                  # Shakespeare (4.8M characters); writes bench/charlm.md
    python -m bench.charlm --corpus path/to/any.txt --no-write
    python -m bench.charlm --cells lstm --steps 400 --hidden 256 --no-write   # a quick look
    python -m bench.charlm --lecture-split         # lecture 05's split (270k/30k/30k), with the tuned n-gram;
                                                   # writes bench/charlm_lecture.md

The text is split contiguously (``utils.data.train_val_test_split``): training text, then
``--val-fraction`` of validation (the curve, and choosing the best model), then ``--test-fraction``
of test text, scored once at the end. Training reads ``--batch`` contiguous streams in
chunks of ``--seq-len`` characters with the state carried across chunks (truncated BPTT), Adam with a
one-cycle learning-rate schedule over the step budget, gradients clipped at norm 1. Every
``--eval-every`` steps the loss on a slice of the validation text is recorded with the wall time
spent training so far; at the end each model is scored on the whole validation and test texts.

Goal (issue 9): the best model reaches <= 1.50 nats per character on held-out Shakespeare within
180 s on 2 CPU cores. The report says whether it did, with the machine's load.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from utils.charlm import CharRNN, detach_hidden, evaluate_loss
from utils.data import SHAKESPEARE_LECTURE_SPLIT, StreamBatches, load_char_data
from utils.ngram import NGramLM
from utils.seed import seed_everything

ROOT = Path(__file__).resolve().parents[1]
GOAL_NATS, GOAL_SECONDS = 1.50, 180.0


def train_one(cell: str, data, args) -> dict:
    seed_everything(args.seed)
    V = len(data.vocab)
    model = CharRNN(V, args.hidden, num_layers=args.layers, cell=cell, embedding_dim=args.embedding,
                    dropout=args.dropout)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, total_steps=args.steps, pct_start=0.05)
    val_slice = data.val[:args.eval_chars]
    curve, h, spent, step = [], None, 0.0, 0
    epoch = 0
    while step < args.steps:
        for x, y in StreamBatches(data.train, args.batch, args.seq_len, offset=(epoch * 7919) % args.seq_len):
            start = time.perf_counter()
            model.train()
            logits, h = model(torch.as_tensor(x), h)
            h = detach_hidden(h)
            loss = F.cross_entropy(logits.reshape(-1, V), torch.as_tensor(y).reshape(-1))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            spent += time.perf_counter() - start
            step += 1
            if step % args.eval_every == 0 or step == args.steps:
                val = evaluate_loss(model, val_slice, batch_size=16, seq_len=256)
                curve.append((step, spent, loss.item(), val))
                print(f"  {cell} step {step:5d}  {spent:7.1f} s  train {loss.item():.3f}  val(slice) {val:.3f}", flush=True)
            if step >= args.steps:
                break
        epoch += 1
        h = None
    tokens = args.steps * args.batch * args.seq_len
    return {"cell": cell, "curve": curve, "seconds": spent, "tokens_per_s": tokens / spent,
            "params": sum(p.numel() for p in model.parameters()),
            "val": evaluate_loss(model, data.val, batch_size=16, seq_len=512),
            "test": evaluate_loss(model, data.test, batch_size=16, seq_len=512)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="shakespeare", help="built-in corpus name or a UTF-8 text file")
    parser.add_argument("--max-chars", type=int, default=None, help="use only the first N characters")
    parser.add_argument("--val-fraction", type=float, default=0.05)
    parser.add_argument("--test-fraction", type=float, default=0.05)
    parser.add_argument("--cells", nargs="+", default=["rnn", "gru", "lstm"], choices=["rnn", "gru", "lstm"])
    parser.add_argument("--steps", type=int, default=1000, help="training steps per model (the budget)")
    parser.add_argument("--hidden", type=int, default=256, help="hidden units H")
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--embedding", type=int, default=64)
    parser.add_argument("--dropout", type=float, default=0.0, help="between layers (layers > 1)")
    parser.add_argument("--batch", type=int, default=32, help="parallel streams N")
    parser.add_argument("--seq-len", type=int, default=128, help="truncated-BPTT window T")
    parser.add_argument("--lr", type=float, default=5e-3, help="peak learning rate (one-cycle)")
    parser.add_argument("--eval-every", type=int, default=200)
    parser.add_argument("--eval-chars", type=int, default=40_000, help="validation characters for the curve")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lecture-split", action="store_true",
                        help="use utils.data.SHAKESPEARE_LECTURE_SPLIT (lectures 02 and 05) and add the best "
                             "backoff n-gram, chosen on its validation text")
    parser.add_argument("--out", type=Path, default=None, help="report (default bench/charlm.md or charlm_lecture.md)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.lecture_split:
        data = load_char_data(**SHAKESPEARE_LECTURE_SPLIT)
        args.corpus = "shakespeare (SHAKESPEARE_LECTURE_SPLIT)"
    else:
        data = load_char_data(args.corpus, max_chars=args.max_chars, val_fraction=args.val_fraction,
                              test_fraction=args.test_fraction)
    args.out = (args.out or ROOT / "bench" / ("charlm_lecture.md" if args.lecture_split else "charlm.md")).resolve()
    print(f"{args.corpus}: {len(data.train):,} train / {len(data.val):,} validation / {len(data.test):,} test "
          f"characters, V = {len(data.vocab)}", flush=True)
    results = [train_one(cell, data, args) for cell in args.cells]
    best = min(results, key=lambda r: r["val"])
    load = os.getloadavg()
    rows = ["| model | parameters | steps | training s | tokens/s | validation nats/char | test nats/char | test perplexity |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    if args.lecture_split:
        V = len(data.vocab)
        scores = {(n, d): NGramLM(n, V, "backoff", discount=d).fit(data.train).cross_entropy(data.val)
                  for n in (3, 4, 5, 6, 7) for d in (0.5, 0.75, 0.9)}
        n, d = min(scores, key=scores.get)
        test = NGramLM(n, V, "backoff", discount=d).fit(data.train).cross_entropy(data.test)
        rows.append(f"| backoff {n}-gram, discount {d} (best of orders 3-7 on validation) | - | - | - | - | "
                    f"{scores[(n, d)]:.3f} | {test:.3f} | {math.exp(test):.2f} |")
    for r in results:
        rows.append(f"| {r['cell']} | {r['params']:,} | {args.steps} | {r['seconds']:.0f} | {r['tokens_per_s']:,.0f} | "
                    f"{r['val']:.3f} | {r['test']:.3f} | {math.exp(r['test']):.2f} |")
    curve_rows = ["| model | step | training s | train loss | validation loss (first "
                  f"{args.eval_chars:,} characters) |", "|---|---:|---:|---:|---:|"]
    for r in results:
        for step, spent, train_loss, val in r["curve"]:
            curve_rows.append(f"| {r['cell']} | {step} | {spent:.0f} | {train_loss:.3f} | {val:.3f} |")
    within = [s for s, t, _, v in best["curve"] if t <= GOAL_SECONDS]
    at_goal_time = [v for s, t, _, v in best["curve"] if t <= GOAL_SECONDS]
    verdict = (f"Best by validation: **{best['cell']}**, test {best['test']:.3f} nats/char after {best['seconds']:.0f} s "
               f"of training ({args.steps} steps). Goal <= {GOAL_NATS:.2f} within {GOAL_SECONDS:.0f} s: "
               + ("**met**." if best["test"] <= GOAL_NATS and best["seconds"] <= GOAL_SECONDS else
                  f"**not met** (validation-slice loss at the last evaluation within {GOAL_SECONDS:.0f} s: "
                  f"{at_goal_time[-1]:.3f} at step {within[-1]})." if within else "**not met**."))
    cfg = (f"H {args.hidden}, {args.layers} layer(s), embedding {args.embedding}, batch {args.batch} x {args.seq_len} "
           f"characters, Adam one-cycle peak lr {args.lr}, clip 1, seed {args.seed}, {args.threads} torch threads")
    report = "\n".join([
        "# Character language models: RNN, GRU, LSTM on held-out text",
        "",
        f"`python -m bench.charlm` on corpus `{args.corpus}`: {len(data.train):,} training, {len(data.val):,} "
        f"validation and {len(data.test):,} test characters (contiguous, test last), V = {len(data.vocab)}. {cfg}. "
        f"torch {torch.__version__}, {os.cpu_count()} cores, load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} "
        f"when it finished: the machine was shared, so seconds and tokens/s are lower bounds of what 2 quiet cores do.",
        "",
        *rows,
        "",
        verdict,
        "",
        "Held-out loss against training wall time (evaluation time excluded):",
        "",
        *curve_rows,
        "",
    ])
    print(report)
    if not args.no_write:
        args.out.write_text(report, encoding="utf-8")
        print(f"wrote {args.out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
