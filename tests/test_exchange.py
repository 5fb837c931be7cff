"""The JupyterHub workflow end to end, with nbgrader's real CLI and a real exchange folder.

The instructor releases A1 (``nbgrader release_assignment``); two students fetch it, one hands in the
reference answers and one a known mistake (``submit``); the instructor collects, grades with
``python -m autograder grade --nbgrader-course``, and releases feedback; each student's
``fetch_feedback`` brings back our feedback page. On the way: the formgrader's own API (nbgrader's
``NbGraderAPI``, which its pages call) lists both submissions as autograded with our scores; a manual
score set in the gradebook, as the formgrader sets it, survives a regrade; ``--question`` regrades one
question and keeps the others' stored scores.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.paths import REPO
from autograder.release import build

pytestmark = pytest.mark.notebook

COURSE, ASSIGNMENT = "recurrent", "a1"
STUDENTS = {"alice": "reference", "bob": "q2_dprev_h_not_propagated"}


def _nbgrader(*args: str, cwd: Path, exchange: Path, **extra: str) -> str:
    options = [f"--course={COURSE}", f"--Exchange.root={exchange}", *(f"--{k}={v}" for k, v in extra.items())]
    # nbgrader's gradebook shells out to `alembic heads`: the environment's bin/ must be on PATH,
    # as it is in an activated environment or a hub's single-user image.
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args, *options], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env=env)
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def _grade(course: Path, out: Path, *extra: str) -> None:
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", "--assignment", ASSIGNMENT,
                           "--nbgrader-course", str(course), "--out", str(out), "--backend", "nbgrader",
                           "--jobs", "2", *extra], cwd=REPO, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout + done.stderr


def _formgrader_view(course: Path) -> dict[str, dict]:
    """What the formgrader's pages show, through the API object its handlers call."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(root=str(course))
    coursedir.course_id = COURSE
    coursedir.db_url = f"sqlite:///{course / 'gradebook.db'}"
    api = NbGraderAPI(coursedir=coursedir)
    assignment = api.get_assignment(ASSIGNMENT)
    assert assignment["num_submissions"] == len(STUDENTS), assignment
    return {s["student"]: s for s in api.get_submissions(ASSIGNMENT)}


def _set_manual_score(course: Path, student: str, question: str, score: float) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        grade = gb.find_grade(f"{question}-hidden", ASSIGNMENT, ASSIGNMENT, student)
        grade.manual_score = score
        gb.db.commit()


def test_release_fetch_submit_collect_grade_feedback(tmp_path, examples):
    exchange, course = tmp_path / "exchange", tmp_path / "course"
    # The instructor's course folder: the nbgrader tree `python -m autograder release` writes.
    shutil.copytree(build(ASSIGNMENT, tmp_path / "build").nbgrader_dir, course)  # generated on demand
    _nbgrader("generate_assignment", ASSIGNMENT, cwd=course, exchange=exchange)
    _nbgrader("release_assignment", ASSIGNMENT, cwd=course, exchange=exchange)

    homes = {}
    for student, example in STUDENTS.items():
        home = homes[student] = tmp_path / "home" / student
        home.mkdir(parents=True)
        ids = {"student": student, "Exchange.cache": str(home / ".nbgrader_cache")}
        _nbgrader("fetch_assignment", ASSIGNMENT, cwd=home, exchange=exchange, **ids)
        fetched = home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        assert fetched.is_file() and "YOUR CODE HERE" in fetched.read_text()
        shutil.copy(examples(ASSIGNMENT) / f"{example}.ipynb", fetched)  # the student's work
        _nbgrader("submit", ASSIGNMENT, cwd=home, exchange=exchange, **ids)
    _nbgrader("collect", ASSIGNMENT, cwd=course, exchange=exchange)
    for student in STUDENTS:
        assert (course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()

    out = course / "graded"
    _grade(course, out)
    ours = {row.split(",")[0]: row.split(",") for row in (out / "grades_summary.csv").read_text().splitlines()[1:]}
    assert float(ours["alice"][3]) == 19 and 0 < float(ours["bob"][3]) < 19

    # The formgrader lists both, autograded, with our scores.
    view = _formgrader_view(course)
    for student in STUDENTS:
        assert view[student]["autograded"], f"the formgrader does not show {student}'s graded submission"
        assert view[student]["score"] == pytest.approx(float(ours[student][3]))

    # A manual score (the formgrader's override) survives a regrade.
    _set_manual_score(course, "bob", "q2", 4.0)
    _grade(course, out, "--regrade")
    assert _formgrader_view(course)["bob"]["score"] == pytest.approx(19.0), "the manual score was lost"

    # --question: q2 is graded again, every other stored score is kept (here: a planted q5 score).
    stored = out / "results" / "alice.json"
    record = json.loads(stored.read_text())
    for q in record["questions"]:
        if q["question"] == "q2":
            q["score"] = 0.0
        if q["question"] == "q5":
            q["score"] = 1.5  # as if graded under an earlier hidden case
    stored.write_text(json.dumps(record))
    _grade(course, out, "--question", "q2")
    again = {q["question"]: q["score"] for q in json.loads(stored.read_text())["questions"]}
    assert again["q2"] == 4.0 and again["q5"] == 1.5, again

    # Feedback through nbgrader's exchange: each student gets our page, and it shows no hidden source.
    _nbgrader("release_feedback", ASSIGNMENT, cwd=course, exchange=exchange)
    for student in STUDENTS:
        home = homes[student]
        _nbgrader("fetch_feedback", ASSIGNMENT, cwd=home, exchange=exchange, student=student,
                  **{"Exchange.cache": str(home / ".nbgrader_cache")})
        pages = list((home / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))
        assert len(pages) == 1, f"{student} got {pages}"
        assert pages[0].read_bytes() == (out / "feedback" / f"{student}.html").read_bytes()
        text = pages[0].read_text()
        for secret in ("BEGIN SOLUTION", "autograder.kernel", "capture("):
            assert secret not in text, f"{student}'s feedback shows {secret!r}"
