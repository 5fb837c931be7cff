"""Benchmark: seconds per submission for each grading backend, over the example submissions.

    python -m bench.grading [--backends nbgrader otter] [--jobs 1] [--device cpu] [--write bench/grading.md]

Grades the example submissions (generated into a temporary folder) once per backend (fresh output folder each time) and
prints a Markdown report: batch wall time, mean/median/max seconds per submission (as measured by
``grade_one``: working copy, engine run with its fresh kernel, verdicts), and whether the backends gave
identical scores.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from autograder.grade import DEVICES, GradeConfig, grade_batch
from autograder.engines import BACKENDS


@dataclass
class BackendRun:
    backend: str
    batch_s: float
    per_submission: list[float]
    scores: dict


def run(backend: str, jobs: int, device: str, submissions: Path, assignment: str = "a1") -> BackendRun:
    with tempfile.TemporaryDirectory(prefix=f"bench-{backend}-") as out:
        start = time.monotonic()
        results = grade_batch(GradeConfig(assignment, submissions, Path(out), backend, device, jobs),
                              progress=lambda msg: None)
        batch_s = time.monotonic() - start
    bad = [r.student for r in results if r.status != "ok"]
    if bad:
        raise SystemExit(f"{backend}: submissions not graded cleanly: {bad}")
    return BackendRun(backend, batch_s, [r.seconds for r in results], {r.student: r.scores() for r in results})


def report(runs: list[BackendRun], jobs: int, device: str, n: int, assignment: str = "a1") -> str:
    lines = [
        f"# Grading benchmark ({assignment}, example submissions)",
        "",
        f"{n} submissions, `--jobs {jobs}`, `--device {device}`, {os.cpu_count()} CPU cores, "
        f"Python {platform.python_version()}, {platform.machine()}. Produced by `python -m bench.grading`.",
        "",
        "| backend | batch wall s | s / submission (mean) | median | max | batch s / submission |",
        "|---|---|---|---|---|---|",
    ]
    for r in runs:
        per = r.per_submission
        lines.append(f"| {r.backend} | {r.batch_s:.1f} | {statistics.mean(per):.1f} | {statistics.median(per):.1f} "
                     f"| {max(per):.1f} | {r.batch_s / len(per):.1f} |")
    if len(runs) > 1:
        same = all(r.scores == runs[0].scores for r in runs[1:])
        lines += ["", f"Scores identical across backends: **{'yes' if same else 'NO'}**."]
    lines += ["", "Per-submission time covers the private working copy, the engine (`nbgrader autograde` or "
              "`otter run`) with a fresh kernel that executes the whole notebook, the hidden-test capture, "
              "and the verdicts in the clean process. The batch time adds the one-off preparation "
              "(instructor inputs, nbgrader template gradebook) and the gradebook, grades.csv and feedback writing.",
              ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS),
                        help="backends to time (default: both)")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded in parallel (default: 1)")
    parser.add_argument("--device", choices=DEVICES, default="cpu", help="grading device (default: cpu)")
    parser.add_argument("--assignment", default="a1", help="which assignment (default: a1)")
    parser.add_argument("--submissions", type=Path, default=None,
                        help="folder of notebooks to grade (default: the assignment's example submissions, "
                             "generated into a temporary folder)")
    parser.add_argument("--write", type=Path, default=None, help="also write the report to this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-examples-") as tmp:
        submissions = args.submissions
        if submissions is None:
            from autograder.examples import build_examples

            submissions = Path(tmp)
            build_examples(args.assignment, submissions)
        n = len(list(submissions.glob("*.ipynb")))
        runs = [run(b, args.jobs, args.device, submissions, args.assignment) for b in args.backends]
    text = report(runs, args.jobs, args.device, n, args.assignment)
    print(text)
    if args.write:
        args.write.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
