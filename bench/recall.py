"""Benchmark: the delayed-recall task of lectures 04-06, every cell, every lag, several seeds.

    python -m bench.recall                 # RECALL_DEMO's settings, seeds 0-2; writes bench/recall.md
    python -m bench.recall --seeds 0 1 2 3 4 --no-write

Checks that the claim the lectures make with ``utils.tasks.run_recall`` holds beyond one seed:
the vanilla RNN's accuracy falls towards chance (1/K) as the lag grows, while the LSTM and the GRU
(gates biased towards remembering, ``gate_bias``) recall at every lag, with the same data, model
size and number of steps. It also runs the gated cells with torch's default initialisation
(``gate_bias=None``), to show what the bias is for.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

from utils.tasks import RECALL_DEMO, run_recall

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds (model and data)")
    parser.add_argument("--no-default-init", action="store_true", help="skip the gate_bias=None runs")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "recall.md")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    args.out = args.out.resolve()
    torch.set_num_threads(1)
    configs = [("rnn", {}), ("lstm", {}), ("gru", {})]
    if not args.no_default_init:
        configs += [("lstm", {"gate_bias": None}), ("gru", {"gate_bias": None})]
    lags = RECALL_DEMO["lags"]
    rows = ["| cell | init | " + " | ".join(f"lag {lag}: accuracy per seed" for lag in lags) + " | seconds per run |",
            "|---|---|" + "---|" * len(lags) + "---:|"]
    for cell, over in configs:
        cells, times = [], []
        for lag in lags:
            accs = []
            for seed in args.seeds:
                start = time.perf_counter()
                accs.append(run_recall(cell, lag, {**over, "seed": seed}).test_metric)
                times.append(time.perf_counter() - start)
            cells.append(" ".join(f"{a:.2f}" for a in accs) + f" (min {min(accs):.2f})")
        init = "-" if cell == "rnn" else ("torch default" if "gate_bias" in over else f"gate_bias {RECALL_DEMO['gate_bias']:g}")
        rows.append(f"| {cell} | {init} | " + " | ".join(cells) + f" | {statistics.median(times):.1f} |")
        print(rows[-1], flush=True)
    settings = ", ".join(f"{k}={v}" for k, v in RECALL_DEMO.items() if k != "lags")
    load = os.getloadavg()
    report = "\n".join([
        "# Delayed recall: RNN, LSTM, GRU",
        "",
        f"`python -m bench.recall`: `utils.tasks.run_recall` for seeds {args.seeds}; test accuracy on "
        f"{RECALL_DEMO['test_size']} fresh sequences (chance {1 / RECALL_DEMO['num_symbols']:.2f}). Settings: {settings}. "
        f"1 torch thread, {os.cpu_count()} cores, load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} "
        f"when it finished (the seconds are wall time under that load).",
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
