"""The two engines that execute a student's notebook: nbgrader (``nbgrader autograde``) and otter
(``otter run``). Either way the notebook runs in a fresh kernel of the grading environment, the
hidden-test cells capture outputs into ``capture/``, and nothing the engine scores is used: the
verdicts are computed afterwards by ``autograder.grade`` from the captured arrays.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from .sandbox import Limits, RunResult, run_limited

BACKENDS = ("nbgrader", "otter")


@dataclass
class EngineJob:
    """Everything one engine run needs, inside the per-submission working copy ``workdir``."""

    assignment: str
    student: str
    notebook: Path  # the normalised copy of the submission
    workdir: Path
    env: dict  # environment of the engine and its kernel (capture paths, device)
    limits: Limits


def run_nbgrader(job: EngineJob, course_template: Path, public_tests: Path) -> RunResult:
    """``nbgrader autograde`` on a private course tree (its own throwaway SQLite gradebook)."""
    course = job.workdir / "course"
    shutil.copytree(course_template, course)
    submitted = course / "submitted" / job.student / job.assignment
    submitted.mkdir(parents=True)
    shutil.copy(job.notebook, submitted / f"{job.assignment}.ipynb")
    shutil.copytree(public_tests, submitted / "tests")
    timeout = int(job.limits.wall_s)
    cmd = [sys.executable, "-m", "nbgrader", "autograde", job.assignment, f"--student={job.student}", "--force",
           f"--CourseDirectory.db_url=sqlite:///{course / 'gradebook.db'}",
           "--Execute.kernel_name=python3", f"--Execute.timeout={timeout}", "--log-level=WARN"]
    return run_limited(cmd, course, job.env, job.limits, job.workdir / "engine.log")


def run_otter(job: EngineJob, otter_zip: Path) -> RunResult:
    """``otter run`` (no Docker) under our own process-level time limit."""
    out = job.workdir / "otter_out"
    out.mkdir()
    cmd = [sys.executable, "-m", "otter", "run", "-a", str(otter_zip), "-o", str(out), "--no-logo",
           str(job.notebook)]
    return run_limited(cmd, job.workdir, job.env, job.limits, job.workdir / "engine.log")
