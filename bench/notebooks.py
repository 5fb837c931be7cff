"""Benchmark: execute every course notebook in a fresh kernel and report time and peak memory.

    make bench                      # all notebooks in course/, writes bench/notebooks.md
    python -m bench.notebooks course/02_*.ipynb --no-write

Budgets (issue 3): each lecture <= 60 s and <= 1.5 GB on 2 CPU cores. Timings on shared
machines are noisy; this script reports, it does not assert.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
from pathlib import Path

from bench.harness import ROOT, run_notebook

BUDGET_S, BUDGET_MB = 60, 1536


def machine() -> str:
    import torch

    return (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"torch {torch.__version__}, {dt.date.today().isoformat()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: course/*.ipynb)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "notebooks.md", help="report file")
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((ROOT / "course").glob("*.ipynb"))
    rows = ["| notebook | status | seconds | kernel CPU seconds | peak memory (MB) | within budget |",
            "|---|---|---:|---:|---:|---|"]
    failed = 0
    for nb in notebooks:
        run = run_notebook(nb)
        failed += not run.ok
        within = "yes" if run.ok and run.seconds <= BUDGET_S and run.peak_mb <= BUDGET_MB else "NO"
        rows.append(f"| {Path(run.notebook).name} | {'ok' if run.ok else 'FAILED'} | {run.seconds:.1f} | {run.cpu_seconds:.1f} | {run.peak_mb:.0f} | {within} |")
        print(rows[-1], flush=True)
        if not run.ok:
            print(run.error, file=sys.stderr)
    report = "\n".join([
        "# Notebook benchmark",
        "",
        f"Each notebook executed top to bottom in a fresh kernel (CPU, offline) by `make bench` "
        f"(`python -m bench.notebooks`). Machine: {machine()}. Budget per lecture: "
        f"{BUDGET_S} s and {BUDGET_MB} MB peak kernel memory. Timings on shared machines vary by 2x or more.",
        "",
        *rows,
        "",
    ])
    if not args.no_write:
        args.out.write_text(report, encoding="utf-8")
        print(f"wrote {args.out.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
