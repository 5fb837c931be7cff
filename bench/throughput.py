"""Throughput benchmark: our grader with ``--jobs N`` against plain sequential ``nbgrader autograde``.

    python -m bench.throughput [--n 100] [--jobs 2] [--write bench/throughput.md]

Generates ``n`` submissions (the 12 example submissions in turn, each with a cell naming its student, so
that no two notebooks are identical), then, in one run on the same machine:

* **plain**: ``nbgrader autograde a1 --student=<s>`` for each submission, one after the other, each in
  the same sandbox our grader uses (``autograder.sandbox``: nobody, no network, instructor files hidden,
  the same limits) on a private copy of a course tree with the same gradebook; the hidden cells capture
  as in our pipeline (so the kernel does the same work), nbgrader scores as it always does, and no
  verdicts, intake, feedback or gradebook export are done;
* **ours**: ``grade_batch`` with ``--jobs N`` (intake, substitutes, sandbox, nbgrader, clean verdicts,
  results, grades.csv, gradebook and feedback), preparation included.

Prints (and with ``--write`` saves) both throughputs from that one run. Not part of the test suite
(tests/test_bench_throughput.py runs it on 3 submissions only).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from autograder.grade import GradeConfig, grade_batch, kernel_env, prepare_batch
from autograder.kernel import IN_ENV, OUT_ENV
from autograder.paths import REPO
from autograder.sandbox import Limits, default_expose, prepare_workdir, run_sandboxed


def generate(folder: Path, n: int) -> list[str]:
    """``n`` submissions made from the examples in turn; returns the student ids."""
    from autograder.examples import build_examples

    folder.mkdir(parents=True, exist_ok=True)
    source_dir = folder.parent / f"{folder.name}-examples"
    examples = sorted(build_examples("a1", source_dir))
    students = []
    for i in range(n):
        source = examples[i % len(examples)]
        nb = nbformat.read(source, as_version=4)
        student = f"s{i:03d}_{source.stem}"
        nb.cells.insert(1, nbformat.v4.new_markdown_cell(f"Submitted by {student}."))
        nbformat.write(nb, folder / f"{student}.ipynb")
        students.append(student)
    return students


def plain_nbgrader(folder: Path, students: list[str], root: Path, limits: Limits) -> float:
    """Sequential plain ``nbgrader autograde``, one sandboxed run per submission; returns wall seconds."""
    config = GradeConfig("a1", folder, root / "unused", "nbgrader", "cpu", 1, limits=limits)
    start = time.monotonic()
    batch = prepare_batch(config, root / "plain")  # the course tree and gradebook nbgrader needs
    failures = 0
    for student in students:
        workdir = prepare_workdir({"course": batch.sandbox_course,
                                   f"course/submitted/{student}/a1/a1.ipynb": folder / f"{student}.ipynb",
                                   f"course/submitted/{student}/a1/tests": batch.public_tests}, base=root)
        (workdir / "capture").mkdir()
        env = kernel_env(config, workdir / "capture", batch.inputs)
        env["PYTHONPATH"] = str(REPO)  # plain: no import shortcuts
        env[IN_ENV], env[OUT_ENV] = str(batch.inputs), str(workdir / "capture")
        cmd = [sys.executable, "-m", "nbgrader", "autograde", "a1", f"--student={student}", "--force",
               f"--CourseDirectory.db_url=sqlite:///{workdir / 'course' / 'gradebook.db'}",
               "--Execute.kernel_name=python3", "--log-level=WARN"]
        result = run_sandboxed(cmd, workdir, limits, env, expose=default_expose() + [batch.inputs, batch.public_tests],
                               cwd=workdir / "course")
        failures += result.status != "ok"
        shutil.rmtree(workdir, ignore_errors=True)
    if failures:
        print(f"plain nbgrader: {failures} runs did not end ok", file=sys.stderr)
    return time.monotonic() - start


def ours(folder: Path, root: Path, jobs: int, limits: Limits) -> tuple[float, list]:
    start = time.monotonic()
    results = grade_batch(GradeConfig("a1", folder, root / "ours", "nbgrader", "cpu", jobs, limits=limits),
                          progress=lambda msg: None)
    return time.monotonic() - start, results


def report(n: int, jobs: int, plain_s: float, ours_s: float, results: list) -> str:
    bad = [r.student for r in results if r.status != "ok"]
    per_plain, per_ours = plain_s / n, ours_s / n
    lines = [
        "# Throughput: our grader against plain sequential `nbgrader autograde`",
        "",
        f"{n} generated submissions (the 12 examples in turn), one run of `python -m bench.throughput --n {n} "
        f"--jobs {jobs}`, {os.cpu_count()} CPU cores, Python {platform.python_version()}, {platform.machine()}, "
        f"same sandbox and limits for both.",
        "",
        "| grader | wall s | s / submission | submissions / minute |",
        "|---|---|---|---|",
        f"| plain `nbgrader autograde`, sequential | {plain_s:.1f} | {per_plain:.2f} | {60 / per_plain:.1f} |",
        f"| ours, `--jobs {jobs}` | {ours_s:.1f} | {per_ours:.2f} | {60 / per_ours:.1f} |",
        "",
        f"Speed-up: **{plain_s / ours_s:.2f}x** (target 3x: {'reached' if plain_s / ours_s >= 3 else 'not reached'}). "
        f"Our run graded {len(results) - len(bad)}/{len(results)} submissions with status ok.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="generated submissions (default: 100)")
    parser.add_argument("--jobs", type=int, default=2, help="parallel submissions for our grader (default: 2)")
    parser.add_argument("--timeout", type=float, default=300.0, help="wall seconds per submission (default: 300)")
    parser.add_argument("--write", type=Path, default=None, help="also write the report to this file")
    args = parser.parse_args(argv)
    limits = Limits(wall_s=args.timeout)
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp:
        root = Path(tmp)
        students = generate(root / "submissions", args.n)
        plain_s = plain_nbgrader(root / "submissions", students, root, limits)
        ours_s, results = ours(root / "submissions", root, args.jobs, limits)
    text = report(args.n, args.jobs, plain_s, ours_s, results)
    print(text)
    if args.write:
        args.write.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
