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

from . import assignments, cellsyntax, reference
from .inputs import write_inputs
from .engines import BACKENDS, EngineJob, run_nbgrader, run_otter, run_setup_check
from .feedback import write_feedback
from .integrity import restore_instructor_cells
from .intake import IntakeConfig, Submission, grade_ids_of, scan
from .kernel import IN_ENV, OUT_ENV
from .nbgrader_course import publish, submitted_timestamps
from .notebooks import KERNELSPEC
from .paths import REPO
from .release import build, build_otter_zip, run_nbgrader_generate, tool_env
from .results import RETRIED, ResultsStore, SubmissionResult, atomic_write_text, grades_csv, summary_csv
from .sandbox import Limits, read_output_file
from .scoring import grader_errors, score_capture_dir, zero_results

DEVICES = ("cpu", "cuda", "auto")
FASTPATH = REPO / "autograder" / "fastpath"  # import-time shortcuts for the engines and kernels


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
    isolate: bool = True  # run engine and kernel in the sandbox (nobody, no network, instructor files hidden)
    nbgrader_course: Path | None = None  # an nbgrader course folder: feedback/ and autograded/ written there
    question: str | None = None  # regrade only this question; every other score is kept as stored
    check_setup: bool = True  # start one kernel in the sandbox before the first submission

    def gradebook_url(self) -> str:
        if self.db_url:
            return self.db_url
        folder = Path(self.nbgrader_course) if self.nbgrader_course else Path(self.out)
        return f"sqlite:///{folder.resolve() / 'gradebook.db'}"


@dataclass
class Batch:
    """What every submission of a batch shares, built once by ``prepare_batch``."""

    config: GradeConfig
    root: Path  # scratch directory of the batch
    inputs: Path  # manifest.json + inputs.npz for the kernels
    course_template: Path  # nbgrader course tree with a gradebook that knows the assignment
    sandbox_course: Path  # the same without source/ (solutions): what a submission's engine gets
    release: object  # the released student notebook: the reference for restoring instructor cells
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
    a = assignments.get(config.assignment)
    ref = reference.load(config.assignment)
    cases = a.spec.hidden_cases(ref)
    tree = build(config.assignment, root / "build")  # the nbgrader tree and otter files, from the two sources
    inputs = root / "inputs"
    write_inputs(inputs, config.assignment, cases, ref, a.forbidden)
    public_tests = a.release_dir / "tests"  # the committed release: what students ran
    manifest = json.loads((inputs / "manifest.json").read_text())
    manifest["public_tests_dir"] = str(public_tests)
    (inputs / "manifest.json").write_text(json.dumps(manifest, indent=1))

    course = root / "course_template"
    course.mkdir()
    shutil.copy(tree.nbgrader_dir / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(tree.nbgrader_source.parent, course / "source" / config.assignment)
    shutil.rmtree(tree.nbgrader_dir)  # the source copy (solutions) lives only in course_template now
    sandbox_course = root / "sandbox_course"
    sandbox_course.mkdir()
    if config.backend == "nbgrader":
        run_nbgrader_generate(course, config.assignment, f"sqlite:///{course / 'gradebook.db'}")
        shutil.rmtree(course / "release")
        # autograde needs the gradebook (locked and hidden-test cells) and the config, not the source
        # notebook, which holds the solutions: it never enters a submission's working copy.
        shutil.copy(course / "nbgrader_config.py", sandbox_course / "nbgrader_config.py")
        shutil.copy(course / "gradebook.db", sandbox_course / "gradebook.db")
    otter_zip = root / "otter-autograder.zip"
    if config.backend == "otter":  # built per batch: it embeds the current kernel-side module
        build_otter_zip(tree, otter_zip)
    release = nbformat.read(a.student_notebook, as_version=4)
    return Batch(config, root, inputs, course, sandbox_course, release, otter_zip, public_tests,
                 cases, ref, a.questions)


def kernel_env(config: GradeConfig, capture_dir: Path, inputs: Path) -> dict:
    """Environment of the engine and the student's kernel: capture paths and the device. In the sandbox
    nothing else of the grader's environment is passed (``sandbox.sandbox_env`` adds PATH, HOME...)."""
    extra = {IN_ENV: str(inputs), OUT_ENV: str(capture_dir), "RECURRENT_DEVICE": config.device,
             "NVIDIA_TF32_OVERRIDE": "0", "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg",
             # one BLAS/torch thread per kernel: --jobs N grades N at once, and small matrices lose to
             # thread start-up (A1's training is 2-5x slower with a thread pool on a busy 2-core machine)
             "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
             "PYTHONPATH": f"{FASTPATH}:{REPO}"}
    env = extra if config.isolate else tool_env(extra)
    if config.device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    return env


def normalised_copy(notebook: Path, target: Path, release=None, notes: list | None = None) -> str | None:
    """Copy the submission with the standard kernelspec and the instructor's cells restored
    (``integrity``; repairs appended to ``notes``); return a reason if it is not a valid notebook."""
    try:
        nb = nbformat.read(notebook, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # any unreadable or invalid notebook
        return f"not a valid notebook: {type(exc).__name__}: {str(exc)[:200]}"
    if release is not None:
        repairs = restore_instructor_cells(nb, release)
        if notes is not None:
            notes += repairs
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return None


SANDBOX_STATUS = {  # sandbox status -> submission status and what it means for the student
    "timeout": "the notebook ran past the time limit",
    "cpu_limit": "the notebook used more CPU time than allowed",
    "memory": "the notebook used more memory than allowed",
    "output_limit": "the notebook printed or wrote more output than allowed",
    "killed": "the grading run was killed by a signal",
}


def _engine_outcome(run, config: GradeConfig) -> tuple[str, str]:
    """(status, reason) of one engine run; ``grader_error`` is the grader's fault and is retried."""
    sandbox = run.sandbox
    status = sandbox.status if sandbox is not None else ("timeout" if run.timed_out else "ok")
    if status == "sandbox_error":
        return "grader_error", sandbox.reason
    if sandbox is not None and sandbox.reason.startswith("could not start the command"):
        # the grader's environment is broken (a missing interpreter, a hidden path): never the student's 0
        return "grader_error", (f"the grader {sandbox.reason} (a set-up problem, not the submission's; "
                                "it is graded again on the next run)")
    if status in SANDBOX_STATUS:
        return status, f"{SANDBOX_STATUS[status]}: {sandbox.reason if sandbox else ''}".strip()
    died = any(word in run.output for word in ("DeadKernelError", "Kernel died", "kernel died"))
    if died:
        return "kernel_died", "the kernel died while running the notebook (os._exit, a crash or a kill)"
    if run.returncode != 0:
        return "engine_error", f"{config.backend} exited with code {run.returncode}: {run.output[-300:].strip()}"
    return "ok", ""


class SetupError(RuntimeError):
    """The grading set-up is broken: nothing can be graded until it is fixed (a one-line message)."""


def check_setup(batch: Batch) -> None:
    """Start one kernel exactly as a submission's kernel starts; raise ``SetupError`` if it cannot."""
    config = batch.config
    workdir = Path(tempfile.mkdtemp(prefix="setup-check-", dir=batch.root))
    capture = workdir / "capture"
    capture.mkdir()
    limits = Limits(wall_s=min(config.limits.wall_s or 120, 120), cpu_s=config.limits.cpu_s,
                    memory_mb=config.limits.memory_mb)
    job = EngineJob(config.assignment, "setup-check", workdir / "none.ipynb", workdir,
                    kernel_env(config, capture, batch.inputs), limits, config.isolate,
                    [batch.inputs, batch.public_tests, FASTPATH])
    try:
        run = run_setup_check(job, config.backend)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if run.returncode == 0 and "set-up ok" in run.output:
        return
    status = run.sandbox.status if run.sandbox is not None else ("timeout" if run.timed_out else "error")
    detail = run.sandbox.reason if run.sandbox is not None else f"exit code {run.returncode}"
    last = [line for line in run.output.strip().splitlines() if line.strip() and not line.startswith("[sandbox]")]
    if last and "could not start" not in detail:
        detail += f"; last output: {last[-1].strip()[:300]}"
    raise SetupError(f"the grading set-up is broken: a {'sandboxed ' if config.isolate else ''}kernel could not "
                     f"start ({'' if status == 'error' else status + ': '}{detail}). Nothing was graded; fix the "
                     "environment and run again.")


def _safe_captures(workdir: Path, capture: Path, questions) -> Path:
    """Copy the capture files the sandboxed run left through ``read_output_file`` (no symlinks, no
    hard links, bounded size) into a directory the student's code never had access to."""
    clean = workdir.parent / f"{workdir.name}.clean"
    clean.mkdir()
    for question in questions:
        try:
            data = read_output_file(workdir, capture.relative_to(workdir) / f"{question}.npz")
        except ValueError:
            continue
        (clean / f"{question}.npz").write_bytes(data)
    return clean


def grade_one(batch: Batch, student: str, notebook: Path | Submission) -> SubmissionResult:
    """Grade one submission in a private working copy. Never raises: failures become status + reason.

    A run that stops early (time, memory, output limits, a dead kernel) keeps the questions whose
    hidden tests captured before it stopped; every other question scores 0 with the reason."""
    config = batch.config
    start = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix=f"{student}-", dir=batch.root))
    result = SubmissionResult(student, config.assignment, config.backend, "ok", "", 0.0)
    clean = None
    try:
        if isinstance(notebook, Submission):
            result.notes += notebook.warnings
            if notebook.extra_files:
                result.notes.append(f"ignored extra files: {', '.join(notebook.extra_files[:10])}")
            if not notebook.ok:
                result.status, result.reason = "bad_notebook", notebook.problem
                notebook = None
            else:
                notebook = notebook.notebook_path
        copy = workdir / "submission" / f"{config.assignment}.ipynb"
        problem = None if notebook is None else normalised_copy(notebook, copy, batch.release, result.notes)
        if problem:
            result.status, result.reason = "bad_notebook", problem
        elif notebook is not None:
            syntax = cellsyntax.find(nbformat.read(copy, as_version=4))  # named in the verdicts below
            capture = workdir / "capture"
            capture.mkdir()
            job = EngineJob(config.assignment, student, copy, workdir, kernel_env(config, capture, batch.inputs),
                            config.limits, config.isolate, [batch.inputs, batch.public_tests, FASTPATH])
            if config.backend == "nbgrader":
                run = run_nbgrader(job, batch.sandbox_course, batch.public_tests)
            else:
                run = run_otter(job, batch.otter_zip)
            result.status, result.reason = _engine_outcome(run, config)
            if run.sandbox is not None and run.sandbox.isolation.not_enforced:
                result.isolation = "; ".join(run.sandbox.isolation.not_enforced)
            if result.status not in ("grader_error", "engine_error"):
                clean = _safe_captures(workdir, capture, batch.questions)
                result.questions, result.public = score_capture_dir(clean, batch.questions, batch.cases, batch.ref)
                if (errors := grader_errors(result.questions)) and result.status == "ok":
                    result.status, result.reason = "grader_error", errors[0]
                if result.status != "ok":
                    for q in result.questions:
                        for c in q.cases:
                            if not c.passed and c.message.startswith("no output was captured"):
                                c.message = f"{c.message} ({result.reason})"
                cellsyntax.explain(result, syntax)
    except Exception as exc:  # a bug or an environment problem must not stop the batch
        result.status, result.reason = "grader_error", f"{type(exc).__name__}: {exc}"
    finally:
        if not config.keep_workdirs:
            shutil.rmtree(workdir, ignore_errors=True)
        if clean is not None:
            shutil.rmtree(clean, ignore_errors=True)
    if not result.questions:
        result.questions = zero_results(batch.questions)
    result.seconds = round(time.monotonic() - start, 2)
    return result


def write_gradebook(db_url: str, course_template: Path, assignment: str, results: list[SubmissionResult],
                    timestamps: dict | None = None) -> None:
    """Record the clean-process scores in the nbgrader gradebook (SQLite or any SQLAlchemy URL);
    ``timestamps`` (student -> datetime) are the collected submissions' times, for the formgrader."""
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    run_nbgrader_generate(course_template, assignment, db_url)  # the assignment and its grade cells
    with Gradebook(db_url) as gb, warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=SAWarning)  # nbgrader's own autoflush noise
        for result in results:
            gb.update_or_create_student(result.student)
            stamp = (timestamps or {}).get(result.student)
            gb.update_or_create_submission(assignment, result.student, **({"timestamp": stamp} if stamp else {}))
            for q in result.questions:
                grade = gb.find_grade(f"{q.question}-hidden", assignment, assignment, result.student)
                grade.auto_score = q.score
                # A manual score is the instructor's override (the formgrader's "manual score"):
                # a regrade changes the automatic score under it and leaves it in place.
                grade.needs_manual_grade = False
            gb.db.commit()


def submissions_problem(submissions: Path) -> str | None:
    """One line naming what is wrong with ``--submissions`` and what to do, or None."""
    if not submissions.exists():
        return (f"--submissions {submissions}: no such folder. Give the folder that holds the notebooks "
                "(<student>.ipynb or <student>/ folders).")
    if not submissions.is_dir():
        return (f"--submissions {submissions} is a file, not a folder. Put the notebooks in a folder "
                "(<student>.ipynb or <student>/ folders) and give that folder.")
    if not os.access(submissions, os.R_OK | os.X_OK):
        return f"--submissions {submissions}: the folder cannot be read (permission denied). Check its permissions."
    return None


class BatchResults(list):
    """The stored result of every submission found (a list of ``SubmissionResult``), with the students
    graded in this run (``graded``; the others were kept from earlier runs) and all students found."""

    def __init__(self, results=(), graded: list[str] | None = None, found: list[str] | None = None):
        super().__init__(results)
        self.graded = list(graded or [])
        self.found = list(found or [])

    def nobody_graded(self) -> str | None:
        """A message if this run graded submissions and every one failed on the grader's or the engine's
        side (a broken set-up, not a class of zeros), else None."""
        ran = [r for r in self if r.student in set(self.graded)]
        if not ran or any(r.status not in ("grader_error", "engine_error") for r in ran):
            return None
        first = ran[0]
        return (f"could grade nobody: all {len(ran)} submission{'s' if len(ran) != 1 else ''} of this run failed "
                f"with {first.status} (first, {first.student}: {first.reason[:300]}). This is most likely the "
                "grading set-up, not the students: fix it and run again (grader_error is retried; add --regrade "
                "for engine_error).")


def grade_batch(config: GradeConfig, progress=print) -> BatchResults:
    """Grade every submission in ``config.submissions``; write results, grades.csv, gradebook, feedback."""
    if config.backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}")
    out = Path(config.out)
    if (problem := submissions_problem(Path(config.submissions))) is not None:
        raise ValueError(problem)
    store = ResultsStore(out / "results")
    with tempfile.TemporaryDirectory(prefix="recurrent-grade-") as tmp:
        release_ids = grade_ids_of(assignments.get(config.assignment).student_notebook)
        report = scan(config.submissions, config.assignment, Path(tmp) / "intake", IntakeConfig(grade_ids=release_ids))
        found = {s.student: s for s in report.submissions}
        for line in report.ignored:
            progress(f"ignored {line}")
        # Done means stored with a status that is the submission's; a grader-side failure is retried.
        if config.question is not None:  # one question again, for everyone; the rest is kept
            todo = dict(found)
        else:
            todo = {s: sub for s, sub in found.items() if config.regrade or store.status(s) in (None, *RETRIED)}
        if not found:
            progress(f"warning: no submissions in {config.submissions}: nothing to grade. Expected <student>.ipynb "
                     "files or <student>/ folders holding the notebook.")
            return BatchResults()
        progress(f"{len(found)} submissions, {len(found) - len(todo)} already graded, {len(todo)} to grade "
                 f"with {config.backend} on {config.device}, {config.jobs} at a time")
        for sub in todo.values():  # the ones graded now; also in each one's feedback notes
            for line in sub.warnings:
                progress(f"{sub.student}: warning: {line}")
        out.mkdir(parents=True, exist_ok=True)
        if not todo:  # nothing to run: no preparation; the tables are rewritten from the store
            results = BatchResults((r for r in map(store.read, found) if r is not None), found=list(found))
            atomic_write_text(out / "grades.csv", grades_csv(results))
            atomic_write_text(out / "grades_summary.csv", summary_csv(results))
            return results
        batch = prepare_batch(config, Path(tmp))
        if config.check_setup:
            check_setup(batch)
        if config.question is not None and config.question not in batch.questions:
            raise ValueError(f"--question {config.question!r} is not a question of {config.assignment}: "
                             f"choose one of {', '.join(batch.questions)}")

        def work(item):
            student, notebook = item
            result = grade_one(batch, student, notebook)
            if result.status == "engine_error":  # the engine failed without a limit or a dead kernel: once more
                first = result.reason
                result = grade_one(batch, student, notebook)
                result.notes.append(f"the engine failed once and was run again (first run: {first[:200]})")
            if config.question is not None and (stored := store.read(student)) is not None:
                result = merge_question(stored, result, config.question)
            store.put(result)  # durable before the next one starts
            progress(f"{student}: {result.score:g}/{result.max_score:g} ({result.status}, {result.seconds:.1f} s)")
            return result

        with ThreadPoolExecutor(max_workers=max(1, config.jobs)) as pool:
            list(pool.map(work, todo.items()))
        results = BatchResults((r for r in map(store.read, found) if r is not None), graded=list(todo),
                               found=list(found))
        atomic_write_text(out / "grades.csv", grades_csv(results))
        atomic_write_text(out / "grades_summary.csv", summary_csv(results))
        if config.gradebook:
            stamps = (submitted_timestamps(config.nbgrader_course, config.assignment, found)
                      if config.nbgrader_course else None)
            write_gradebook(config.gradebook_url(), batch.course_template, config.assignment, results, stamps)
    for result in results:
        write_feedback(result, out / "feedback" / f"{result.student}.html")
    if config.nbgrader_course:
        for line in publish(config.nbgrader_course, config.assignment, results, out):
            progress(f"warning: {line}")
    return results


def merge_question(stored: SubmissionResult, new: SubmissionResult, question: str) -> SubmissionResult:
    """``stored`` with ``question``'s score taken from ``new`` (a regrade of that question only).

    If the new run did not finish (a timeout, a dead kernel, the grader's failure) nothing is replaced:
    the stored grade stands and a note says so."""
    if new.status != "ok" or stored.status != "ok":
        if stored.status != "ok":  # nothing worth keeping: the whole new result
            return new
        stored.notes.append(f"regrading {question} did not finish ({new.status}: {new.reason}); "
                            "the earlier score is kept")
        return stored
    fresh = {q.question: q for q in new.questions}
    stored.questions = [fresh.get(question, q) if q.question == question else q for q in stored.questions]
    stored.public = [p for p in stored.public if p.question != question] + \
                    [p for p in new.public if p.question == question]
    stored.notes.append(f"{question} regraded; the other questions keep their earlier scores")
    return stored
