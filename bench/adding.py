"""Benchmark: the adding problem (Hochreiter and Schmidhuber 1997) for the RNN, the LSTM and the GRU.

    python -m bench.adding                          # T = 25, 50, 100; writes bench/adding.md and bench/adding.png
    python -m bench.adding --T 100 --steps 500 --no-write

T values, two of them marked (one in each half); predict their sum. Always answering 1 scores
MSE 1/6 ≈ 0.167. Every cell gets the same budget in steps, the same fresh batches (one seed), the
same hidden size and optimiser (Adam, clipping at 1); the gated cells start with their memory gate
biased towards keeping (``utils.tasks.set_memory_bias``). Each model is scored on 2,000 fresh test
sequences. Goal (issue 9): at T = 100, the LSTM or the GRU reaches MSE < 0.01 within 3 CPU minutes,
and the vanilla RNN stays above 0.1 with the same budget.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

from utils.tasks import ADDING_BASELINE_MSE, SequenceRegressor, adding_problem, train_many_to_one

ROOT = Path(__file__).resolve().parents[1]
GOAL_MSE, RNN_FLOOR, GOAL_SECONDS = 0.01, 0.1, 180.0


def run(cell: str, T: int, args) -> dict:
    torch.manual_seed(args.seed)
    model = SequenceRegressor(2, args.hidden, cell, gate_bias=None if cell == "rnn" else args.gate_bias)
    test = adding_problem(2000, T, rng=10_000 + T)
    start = time.perf_counter()
    result = train_many_to_one(model, lambda rng: adding_problem(args.batch, T, rng), steps=args.steps,
                               lr=args.lr, clip_norm=1.0, test_batch=test, seed=args.seed)
    return {"cell": cell, "T": T, "mse": result.test_metric, "seconds": time.perf_counter() - start,
            "loss": result.loss}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--T", type=int, nargs="+", default=[25, 50, 100], help="sequence lengths")
    parser.add_argument("--cells", nargs="+", default=["rnn", "lstm", "gru"], choices=["rnn", "lstm", "gru"])
    parser.add_argument("--steps", type=int, default=1500, help="training steps per model (the budget)")
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--gate-bias", type=float, default=3.0, help="memory-gate bias of the LSTM and GRU")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "adding.md")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    args.out = args.out.resolve()
    torch.set_num_threads(args.threads)
    results = []
    for T in args.T:
        for cell in args.cells:
            r = run(cell, T, args)
            results.append(r)
            print(f"T {T:4d} {cell:5} MSE {r['mse']:.4f}  {r['seconds']:.0f} s", flush=True)
    table = ["| T | " + " | ".join(f"{c} MSE" for c in args.cells) + " | " + " | ".join(f"{c} s" for c in args.cells) + " |",
             "|---:|" + "---:|" * (2 * len(args.cells))]
    for T in args.T:
        rs = {r["cell"]: r for r in results if r["T"] == T}
        table.append(f"| {T} | " + " | ".join(f"{rs[c]['mse']:.4f}" for c in args.cells) + " | "
                     + " | ".join(f"{rs[c]['seconds']:.0f}" for c in args.cells) + " |")
    verdict = []
    if 100 in args.T:
        at = {r["cell"]: r for r in results if r["T"] == 100}
        gated = [at[c] for c in ("lstm", "gru") if c in at]
        best = min(gated, key=lambda r: r["mse"]) if gated else None
        if best:
            ok = best["mse"] < GOAL_MSE and best["seconds"] <= GOAL_SECONDS
            verdict.append(f"T = 100: best gated cell **{best['cell']}**, MSE {best['mse']:.4f} in {best['seconds']:.0f} s "
                           f"(goal < {GOAL_MSE} within {GOAL_SECONDS:.0f} s: {'met' if ok else 'NOT met'}).")
        if "rnn" in at:
            verdict.append(f"T = 100: vanilla RNN MSE {at['rnn']['mse']:.4f} with the same budget "
                           f"(goal > {RNN_FLOOR}: {'met' if at['rnn']['mse'] > RNN_FLOOR else 'NOT met'}).")
    load = os.getloadavg()
    report = "\n".join([
        "# The adding problem: RNN, LSTM, GRU",
        "",
        f"`python -m bench.adding`: {args.steps} steps of {args.batch} fresh sequences per model, H {args.hidden}, "
        f"Adam lr {args.lr}, clip 1, memory-gate bias {args.gate_bias} for the LSTM and GRU, seed {args.seed}; "
        f"MSE on 2,000 fresh test sequences (always answering 1: {ADDING_BASELINE_MSE:.3f}). {args.threads} torch "
        f"thread(s), {os.cpu_count()} cores, load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} when it "
        f"finished (seconds are wall time under that load).",
        "",
        *table,
        "",
        *verdict,
        "",
    ])
    print(report)
    if not args.no_write:
        args.out.write_text(report, encoding="utf-8")
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5.5, 3.5))
        for cell in args.cells:
            ax.semilogy(args.T, [r["mse"] for r in results if r["cell"] == cell], "o-", label=cell)
        ax.axhline(ADDING_BASELINE_MSE, color="k", ls="--", lw=1, label="always 1")
        ax.set_xlabel("T")
        ax.set_ylabel("test MSE (log scale)")
        ax.set_title(f"Adding problem, {args.steps} steps each")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3, which="both")
        fig.savefig(args.out.with_suffix(".png"), dpi=90, bbox_inches="tight")
        print(f"wrote {args.out.relative_to(ROOT)} and {args.out.with_suffix('.png').relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
