"""The nbgrader gradebook on a real PostgreSQL server, as a large course runs it.

A throwaway cluster (Debian's ``postgresql``: initdb in a temporary folder, a Unix socket only) takes
the scores of ``python -m autograder grade --db-url postgresql+psycopg://... --jobs 2``. They are read
back through nbgrader's own gradebook API, through ``nbgrader export`` and with SQL: every score is
there once and equals ``grades.csv``. A second batch killed mid-way (SIGKILL) and run again leaves no
duplicate and no missing row.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from autograder.examples import build_examples
from autograder.paths import REPO
from servers import Postgres

pytestmark = pytest.mark.notebook

ASSIGNMENT = "a1"
FIRST = {"ana": "reference", "ben": "blank", "cleo": "q2_dprev_h_not_propagated"}
SECOND = {"dev": "q4_mask_ignored", "eli": "reference", "fay": "q6_temperature_multiplies",
          "gus": "q1_missing_tanh_derivative"}


def _submissions(folder: Path, students: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    examples = folder.parent / f"{folder.name}-examples"
    if not examples.exists():
        build_examples(ASSIGNMENT, examples)
    for student, example in students.items():
        shutil.copy(examples / f"{example}.ipynb", folder / f"{student}.ipynb")
    return folder


def _grade_command(subs: Path, out: Path, url: str) -> list[str]:
    return [sys.executable, "-m", "autograder", "grade", "--assignment", ASSIGNMENT, "--submissions", str(subs),
            "--out", str(out), "--backend", "nbgrader", "--jobs", "2", "--db-url", url, "--timeout", "300"]


def _csv_scores(out: Path) -> dict[str, dict[str, float]]:
    scores: dict[str, dict[str, float]] = defaultdict(dict)
    with open(out / "grades.csv", newline="") as f:
        for row in csv.DictReader(f):
            assert row["question"] not in scores[row["student"]], f"grades.csv repeats {row}"
            scores[row["student"]][row["question"]] = float(row["score"])
    return dict(scores)


def _gradebook_scores(url: str) -> dict[str, dict[str, float]]:
    """Per student and question, through nbgrader's API (the same objects the formgrader reads)."""
    from nbgrader.api import Gradebook

    scores: dict[str, dict[str, float]] = defaultdict(dict)
    with Gradebook(url) as gb:
        for submission in gb.assignment_submissions(ASSIGNMENT):
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    question = grade.name.removesuffix("-hidden")
                    assert question not in scores[submission.student.id], f"two grades for {grade.name}"
                    scores[submission.student.id][question] = float(grade.score)
    return dict(scores)


def _export(url: str, folder: Path) -> dict[str, float]:
    target = folder / "nbgrader_export.csv"
    done = subprocess.run([sys.executable, "-m", "nbgrader", "export", f"--CourseDirectory.db_url={url}",
                           f"--to={target}"], cwd=folder, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with open(target, newline="") as f:
        rows = list(csv.DictReader(f))
    students = [r["student_id"] for r in rows]
    assert len(students) == len(set(students)), f"nbgrader export repeats a student: {students}"
    return {r["student_id"]: float(r["score"]) for r in rows if r["assignment"] == ASSIGNMENT}


def _check_database(pg: Postgres, url: str, out: Path, folder: Path, students: set[str]) -> None:
    ours = _csv_scores(out)
    assert set(ours) == students
    assert _gradebook_scores(url) == ours, "the gradebook disagrees with grades.csv"
    totals = {student: sum(q.values()) for student, q in ours.items()}
    assert _export(url, folder) == pytest.approx(totals)
    # and in SQL: one grade row per student and grade cell, no more
    repeated = pg.psql("select s.student_id, g.cell_id, count(*) from grade g "
                       "join submitted_notebook n on g.notebook_id = n.id "
                       "join submitted_assignment s on n.assignment_id = s.id "
                       "group by s.student_id, g.cell_id having count(*) > 1")
    assert repeated.strip() == "", f"duplicate grade rows:\n{repeated}"
    count = int(pg.psql("select count(*) from submitted_assignment"))
    assert count == len(students), f"{count} submissions in the database for {len(students)} students"


def test_postgres_gradebook_with_a_killed_and_resumed_batch(tmp_path):
    with Postgres(tmp_path / "pg") as pg:
        url, out = pg.url, tmp_path / "graded"
        subs = _submissions(tmp_path / "subs", FIRST)
        done = subprocess.run(_grade_command(subs, out, url), cwd=REPO, capture_output=True, text=True, timeout=1200)
        assert done.returncode == 0, done.stdout + done.stderr
        _check_database(pg, url, out, tmp_path, set(FIRST))
        first = _csv_scores(out)
        assert sum(first["ana"].values()) == 19 and sum(first["ben"].values()) == 0

        # Second batch: four more students; kill the grader once the first of them is stored.
        _submissions(subs, SECOND)
        results = out / "results"
        before = {p.name for p in results.glob("*.json")}
        proc = subprocess.Popen(_grade_command(subs, out, url), cwd=REPO, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline and not ({p.name for p in results.glob("*.json")} - before):
                assert proc.poll() is None, "the grader finished before it could be killed"
                time.sleep(0.2)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        stored = {p.name for p in results.glob("*.json")} - before
        assert 1 <= len(stored) < len(SECOND), f"the kill came too late to test anything: {stored}"

        done = subprocess.run(_grade_command(subs, out, url), cwd=REPO, capture_output=True, text=True, timeout=1200)
        assert done.returncode == 0, done.stdout + done.stderr
        _check_database(pg, url, out, tmp_path, set(FIRST) | set(SECOND))
        after = _csv_scores(out)
        assert {s: after[s] for s in FIRST} == first, "the first batch's scores changed"
        assert sum(after["eli"].values()) == 19
