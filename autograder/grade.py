"""``python -m autograder grade``: grade a folder of submissions with nbgrader or otter.

Design (so that the hardening work slots in): ``prepare_batch`` builds everything shared once
(instructor inputs, nbgrader course template, otter zip); ``grade_one(submission) -> SubmissionResult``
grades one notebook in its own temporary working copy and never raises; ``grade_batch`` runs
``grade_one`` over the folder (``--jobs N`` in parallel), stores each result atomically as soon as it
exists (resuming skips graded students unless ``regrade``), then writes grades.csv, the nbgrader
gradebook and the feedback pages from the store.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import assignments, reference
from .cases import write_inputs
from .engines import BACKENDS, EngineJob, run_nbgrader, run_otter
from .feedback import write_feedback
from .kernel import IN_ENV, OUT_ENV
from .notebooks import KERNELSPEC
from .paths import REPO, solution_notebook
from .release import ReleasePaths, build_otter_zip, run_nbgrader_generate, tool_env
from .results import ResultsStore, SubmissionResult, atomic_write_text, grades_csv
from .sandbox import Limits
from .scoring import score_capture_dir, zero_results

DEVICES = ("cpu", "cuda", "auto")


@dataclass
class GradeConfig:
    """Options of one grading batch (each is a ``grade`` command-line option)."""

    assignment: str = "a1"
    submissions: Path = Path("submissions")  # DIR/<student>.ipynb or DIR/<student>/<anything>.ipynb
    out: Path = Path("graded")  # grades.csv, results/, feedback/, gradebook.db
    backend: str = "nbgrader"  # "nbgrader" or "otter"
    device: str = "cpu"  # RECURRENT_DEVICE given to the grading kernel
    jobs: int = 1  # submissions graded in parallel
    db_url: str | None = None  # nbgrader gradebook; default sqlite:///<out>/gradebook.db
    limits: Limits = field(default_factory=Limits)
    regrade: bool = False  # grade again students already in <out>/results/
    keep_workdirs: bool = False  # keep each submission's working copy (debugging)
    gradebook: bool = True  # also record the scores in the nbgrader gradebook

    def gradebook_url(self) -> str:
        return self.db_url or f"sqlite:///{Path(self.out).resolve() / 'gradebook.db'}"


@dataclass
class Batch:
    """What every submission of a batch shares, built once by ``prepare_batch``."""

    config: GradeConfig
    root: Path  # scratch directory of the batch
    inputs: Path  # manifest.json + inputs.npz for the kernels
    course_template: Path  # nbgrader course tree with a gradebook that knows the assignment
    otter_zip: Path
    public_tests: Path
    cases: list
    ref: object
    questions: dict


def discover(submissions: Path, assignment: str) -> dict[str, Path]:
    """Map student id -> notebook: ``DIR/<student>.ipynb`` or ``DIR/<student>/`` with one notebook
    (``<assignment>.ipynb`` preferred)."""
    found: dict[str, Path] = {}
    for entry in sorted(Path(submissions).iterdir()):
        if entry.is_file() and entry.suffix == ".ipynb":
            found[entry.stem] = entry
        elif entry.is_dir():
            preferred = entry / f"{assignment}.ipynb"
            notebooks = [preferred] if preferred.exists() else sorted(entry.glob("*.ipynb"))
            if notebooks:
                found[entry.name] = notebooks[0]
    return found


def prepare_batch(config: GradeConfig, root: Path) -> Batch:
    """Inputs for the kernels, the nbgrader course template, the otter zip, the main gradebook."""
    module = assignments.get(config.assignment)
    ref = reference.load(config.assignment)
    cases = module.cases.hidden_cases(ref)
    paths = ReleasePaths(REPO, config.assignment)
    inputs = root / "inputs"
    write_inputs(inputs, config.assignment, cases, ref)
    manifest = json.loads((inputs / "manifest.json").read_text())
    manifest["public_tests_dir"] = str(paths.student_dir / "tests")
    (inputs / "manifest.json").write_text(json.dumps(manifest, indent=1))

    course = root / "course_template"
    course.mkdir()
    shutil.copy(paths.nbgrader_dir / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(paths.nbgrader_source.parent, course / "source" / config.assignment)
    if config.backend == "nbgrader":
        run_nbgrader_generate(course, config.assignment, f"sqlite:///{course / 'gradebook.db'}")
        shutil.rmtree(course / "release")
    otter_zip = paths.otter_zip
    if config.backend == "otter":  # rebuilt per batch: it embeds the current kernel-side module
        otter_zip = build_otter_zip(paths, root / "otter-autograder.zip")
    return Batch(config, root, inputs, course, otter_zip, paths.student_dir / "tests", cases, ref,
                 dict(module.cases.QUESTIONS))


def kernel_env(config: GradeConfig, capture_dir: Path, inputs: Path) -> dict:
    """Environment of the engine and the student's kernel: capture paths and the device."""
    extra = {IN_ENV: str(inputs), OUT_ENV: str(capture_dir), "RECURRENT_DEVICE": config.device,
             "NVIDIA_TF32_OVERRIDE": "0", "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg"}
    env = tool_env(extra)
    if config.device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    return env


def normalised_copy(notebook: Path, target: Path) -> str | None:
    """Copy the submission with the standard kernelspec; return a reason if it is not a valid notebook."""
    try:
        nb = nbformat.read(notebook, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # any unreadable or invalid notebook
        return f"not a valid notebook: {type(exc).__name__}: {str(exc)[:200]}"
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return None


def grade_one(batch: Batch, student: str, notebook: Path) -> SubmissionResult:
    """Grade one submission in a private working copy. Never raises: failures become status + reason."""
    config = batch.config
    start = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix=f"{student}-", dir=batch.root))
    result = SubmissionResult(student, config.assignment, config.backend, "ok", "", 0.0)
    try:
        copy = workdir / "submission" / f"{config.assignment}.ipynb"
        problem = normalised_copy(notebook, copy)
        if problem:
            result.status, result.reason = "bad_notebook", problem
        else:
            capture = workdir / "capture"
            capture.mkdir()
            job = EngineJob(config.assignment, student, copy, workdir, kernel_env(config, capture, batch.inputs),
                            config.limits)
            if config.backend == "nbgrader":
                run = run_nbgrader(job, batch.course_template, batch.public_tests)
            else:
                run = run_otter(job, batch.otter_zip)
            if run.timed_out:
                result.status = "timeout"
                result.reason = f"grading stopped after the time limit of {config.limits.wall_s:g} s"
            elif run.returncode != 0:
                result.status = "engine_error"
                result.reason = f"{config.backend} exited with code {run.returncode}: {run.output[-300:].strip()}"
            else:
                result.questions, result.public = score_capture_dir(capture, batch.questions, batch.cases, batch.ref)
    except Exception as exc:  # a bug or an environment problem must not stop the batch
        result.status, result.reason = "engine_error", f"{type(exc).__name__}: {exc}"
    finally:
        if not config.keep_workdirs:
            shutil.rmtree(workdir, ignore_errors=True)
    if result.status != "ok":
        result.questions = zero_results(batch.questions)
    result.seconds = round(time.monotonic() - start, 2)
    return result


def write_gradebook(db_url: str, course_template: Path, assignment: str, results: list[SubmissionResult]) -> None:
    """Record the clean-process scores in the nbgrader gradebook (SQLite or any SQLAlchemy URL)."""
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    run_nbgrader_generate(course_template, assignment, db_url)  # the assignment and its grade cells
    with Gradebook(db_url) as gb, warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=SAWarning)  # nbgrader's own autoflush noise
        for result in results:
            gb.update_or_create_student(result.student)
            gb.update_or_create_submission(assignment, result.student)
            for q in result.questions:
                grade = gb.find_grade(f"{q.question}-hidden", assignment, assignment, result.student)
                grade.auto_score = q.score
                grade.manual_score = None
                grade.needs_manual_grade = False
            gb.db.commit()


def grade_batch(config: GradeConfig, progress=print) -> list[SubmissionResult]:
    """Grade every submission in ``config.submissions``; write results, grades.csv, gradebook, feedback."""
    if config.backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}")
    out = Path(config.out)
    store = ResultsStore(out / "results")
    found = discover(config.submissions, config.assignment)
    todo = {s: nb for s, nb in found.items() if config.regrade or not store.has(s)}
    progress(f"{len(found)} submissions, {len(found) - len(todo)} already graded, {len(todo)} to grade "
             f"with {config.backend} on {config.device}, {config.jobs} at a time")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="recurrent-grade-") as tmp:
        batch = prepare_batch(config, Path(tmp))

        def work(item):
            student, notebook = item
            result = grade_one(batch, student, notebook)
            store.put(result)  # durable before the next one starts
            progress(f"{student}: {result.score:g}/{result.max_score:g} ({result.status}, {result.seconds:.1f} s)")
            return result

        with ThreadPoolExecutor(max_workers=max(1, config.jobs)) as pool:
            list(pool.map(work, todo.items()))
        results = [store.get(s) for s in found if store.has(s)]
        atomic_write_text(out / "grades.csv", grades_csv(results))
        if config.gradebook:
            write_gradebook(config.gradebook_url(), batch.course_template, config.assignment, results)
    for result in results:
        write_feedback(result, out / "feedback" / f"{result.student}.html")
    return results
