"""Nothing lost, nothing doubled: SIGKILL a real grading process mid-batch, then run the batch again.

Every grade finished before the kill is kept byte for byte, the unfinished submissions are graded, none
is graded twice, a grader-side failure (``grader_error``) is retried, and ``--regrade`` is the only way
to grade a finished submission again.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder import assignments
from autograder.grade import GradeConfig, grade_batch
from autograder.paths import REPO
from autograder.results import ResultsStore, SubmissionResult
from autograder.sandbox import Limits

pytestmark = [pytest.mark.notebook, pytest.mark.engine]

QUESTIONS = assignments.get("a1").questions

STUDENTS = ["s1", "s2", "s3", "s4"]


def test_sigkill_mid_batch_then_resume(tmp_path, examples):
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    for student in STUDENTS:
        shutil.copy(examples("a1") / "reference.ipynb", subs / f"{student}.ipynb")
    cmd = [sys.executable, "-m", "autograder", "grade", "--assignment", "a1", "--submissions", str(subs),
           "--out", str(out), "--jobs", "1", "--timeout", "120"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    results = out / "results"
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and not list(results.glob("*.json")):
            assert proc.poll() is None, "the grader ended before it could be killed"
            time.sleep(0.2)
        time.sleep(1.0)  # well into the next submission
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    finished = {p.name: p.read_bytes() for p in results.glob("*.json")}
    assert 1 <= len(finished) < len(STUDENTS), finished.keys()
    # What a kill during a write leaves (a torn ``.<name>.json.<pid>.tmp``) is never read as a result:
    # the rerun below grades exactly STUDENTS and its tables hold no "torn" row.
    (results / ".torn.json.99999.tmp").write_text('{"student": "torn", "sta')

    # A grader-side failure recorded for a student not yet graded must be retried.
    pending = sorted(set(STUDENTS) - {n[:-5] for n in finished})
    store = ResultsStore(results)
    fake = SubmissionResult(pending[0], "a1", "nbgrader", "grader_error", "sandbox could not start (planted)", 0.0)
    store.put(fake)

    messages = []
    config = GradeConfig("a1", subs, out, "nbgrader", "cpu", jobs=2, limits=Limits(wall_s=120))
    again = {r.student: r for r in grade_batch(config, progress=messages.append)}
    assert f"{len(finished)} already graded, {len(STUDENTS) - len(finished)} to grade" in messages[0]
    for name, data in finished.items():
        assert (results / name).read_bytes() == data, f"{name} was graded again"
    assert set(again) == set(STUDENTS)
    assert all(r.status == "ok" and r.scores() == QUESTIONS for r in again.values()), {
        s: (r.status, r.reason) for s, r in again.items()}
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert sorted(r["student"] for r in rows) == sorted(s for s in STUDENTS for _ in QUESTIONS)
    assert {r.student for r in ResultsStore(results).all()} == set(STUDENTS)  # the torn file is not a record

    # Nothing more to do, unless --regrade says so.
    messages.clear()
    grade_batch(GradeConfig("a1", subs, out, "nbgrader", "cpu", jobs=2, gradebook=False), progress=messages.append)
    assert "0 to grade" in messages[0]
