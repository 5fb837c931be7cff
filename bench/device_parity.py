"""Device parity: grade the example submissions with ``--device cpu`` and ``--device cuda`` and report
any score difference (the verdicts compare in float64 on the CPU with tolerances meant to hold for
CUDA float32, so there should be none).

    python -m bench.device_parity [--assignments a1 t1] [--backend otter] [--jobs 1] [--write bench/device_parity.md]

On a machine without CUDA it says so and exits 0.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def grade(assignment: str, submissions: Path, device: str, backend: str, jobs: int) -> dict:
    from autograder.grade import GradeConfig, grade_batch

    with tempfile.TemporaryDirectory(prefix=f"parity-{device}-") as out:
        results = grade_batch(GradeConfig(assignment, submissions, Path(out), backend, device, jobs,
                                          gradebook=False), progress=lambda msg: None)
    return {r.student: (r.status, r.scores()) for r in results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignments", nargs="+", default=None, help="default: every assignment in the registry")
    parser.add_argument("--backend", default="otter", help="grading engine (default: otter)")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded in parallel (default: 1)")
    parser.add_argument("--write", type=Path, default=None, help="also write the report to this file")
    args = parser.parse_args(argv)
    if not cuda_available():
        print("device parity: no CUDA device on this machine (torch.cuda.is_available() is False); nothing to compare")
        return 0
    from autograder import assignments
    from autograder.examples import build_examples

    import torch

    lines = ["# Device parity (example submissions, --device cpu against --device cuda)", "",
             f"GPU: {torch.cuda.get_device_name(0)}; backend {args.backend}, --jobs {args.jobs}. "
             "Produced by `python -m bench.device_parity`.", "",
             "| assignment | submissions | differences | cpu s | cuda s |", "|---|---|---|---|---|"]
    differences = []
    for name in args.assignments or assignments.names():
        with tempfile.TemporaryDirectory(prefix=f"parity-{name}-") as tmp:
            build_examples(name, Path(tmp))
            start = time.monotonic()
            cpu = grade(name, Path(tmp), "cpu", args.backend, args.jobs)
            cpu_s = time.monotonic() - start
            start = time.monotonic()
            cuda = grade(name, Path(tmp), "cuda", args.backend, args.jobs)
            cuda_s = time.monotonic() - start
        diff = [f"{name}/{s}: cpu {cpu[s]} cuda {cuda.get(s)}" for s in cpu if cpu[s] != cuda.get(s)]
        differences += diff
        lines.append(f"| {name} | {len(cpu)} | {len(diff)} | {cpu_s:.0f} | {cuda_s:.0f} |")
    lines += ["", *(f"- {d}" for d in differences)] if differences else ["", "No score or status differs."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        args.write.write_text(text)
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
