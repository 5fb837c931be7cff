"""The two engines that execute a student's notebook: nbgrader (``nbgrader autograde``) and otter
(``otter run``). Either way the notebook runs in a fresh kernel of the grading environment, the
hidden-test cells capture outputs into ``capture/``, and nothing the engine scores is used: the
verdicts are computed afterwards by ``autograder.grade`` from the captured arrays.

By default the engine and its kernel run in ``autograder.sandbox`` (``isolate=True``): as ``nobody``,
without network, with the repository and the grader's home hidden. What they may read is the
working copy (the submission, a course tree *without* ``source/``, i.e. without solutions) and the
``expose`` list: the Python environment, ``utils/``, the kernel-side capture code and the batch's
instructor inputs (inputs and an encrypted substitute table, no expected outputs).
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .paths import KERNEL_SIDE, REPO
from .sandbox import Limits, RunResult, default_expose, run_limited

BACKENDS = ("nbgrader", "otter")
PYTHON = sys.executable  # the interpreter engines and kernels run on


@dataclass
class EngineJob:
    """Everything one engine run needs, inside the per-submission working copy ``workdir``."""

    assignment: str
    student: str
    notebook: Path  # the normalised copy of the submission
    workdir: Path
    env: dict  # environment of the engine and its kernel (capture paths, device)
    limits: Limits
    isolate: bool = True  # full sandbox (see the module docstring); False: limits and kills only
    expose: list = field(default_factory=list)  # extra read-only paths (the batch's inputs)


def _run(job: EngineJob, cmd: list[str], cwd: Path) -> RunResult:
    options = {}
    if job.isolate:
        kernel_side = [REPO / "autograder" / name for name in KERNEL_SIDE]
        options = {"workdir": job.workdir, "expose": default_expose() + kernel_side + list(job.expose)}
    return run_limited(cmd, cwd, job.env, job.limits, job.workdir / "engine.log", isolate=job.isolate, **options)


def run_nbgrader(job: EngineJob, course_template: Path, public_tests: Path) -> RunResult:
    """``nbgrader autograde`` on a private course tree (its own throwaway SQLite gradebook)."""
    course = job.workdir / "course"
    shutil.copytree(course_template, course)
    submitted = course / "submitted" / job.student / job.assignment
    submitted.mkdir(parents=True)
    shutil.copy(job.notebook, submitted / f"{job.assignment}.ipynb")
    shutil.copytree(public_tests, submitted / "tests")
    timeout = int(job.limits.wall_s or 3600)
    cmd = [PYTHON, "-m", "nbgrader", "autograde", job.assignment, f"--student={job.student}", "--force",
           f"--CourseDirectory.db_url=sqlite:///{course / 'gradebook.db'}",
           "--Execute.kernel_name=python3", f"--Execute.timeout={timeout}", "--Execute.raise_on_iopub_timeout=False",
           "--log-level=WARN"]
    return _run(job, cmd, course)


def run_otter(job: EngineJob, otter_zip: Path) -> RunResult:
    """``otter run`` (no Docker) under our own process-level time limit."""
    out = job.workdir / "otter_out"
    out.mkdir()
    local_zip = job.workdir / "autograder.zip"
    shutil.copy(otter_zip, local_zip)
    cmd = [PYTHON, "-m", "otter", "run", "-a", str(local_zip), "-o", str(out), "--no-logo",
           str(job.notebook)]
    return _run(job, cmd, job.workdir)


SETUP_CHECK = """
import nbclient, nbformat
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import autograder.kernel, numpy")])
nbclient.NotebookClient(nb, kernel_name="python3", timeout=60).execute()
import {engine}
print("set-up ok")
"""


def run_setup_check(job: EngineJob, backend: str) -> RunResult:
    """Start one kernel the way a submission's kernel starts (same sandbox, environment and exposed
    paths) and import the engine: a broken set-up shows here, before any submission is graded."""
    job.workdir.mkdir(parents=True, exist_ok=True)
    return _run(job, [PYTHON, "-c", SETUP_CHECK.format(engine=backend)], job.workdir)
