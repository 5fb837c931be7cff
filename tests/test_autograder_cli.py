"""``python -m autograder grade`` at the edges a new instructor meets first: a missing or wrong
``--submissions``, an empty folder, a rerun. One-line errors (exit 2), a warning, no batch preparation
when nothing needs grading, and "graded N" counting this run only. The engines are replaced by stubs
(the batch machinery around them is what is tested); tests/test_autograder_grade.py runs them for real."""

from __future__ import annotations

import types

import nbformat
import pytest

import autograder.grade as grade_module
from autograder.__main__ import main
from autograder.results import ResultsStore, SubmissionResult
from autograder.scoring import zero_results

A = "a1"
QUESTIONS = {"q1": 3.0, "q2": 4.0}


def notebook(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nb.cells[0].metadata["nbgrader"] = {"grade_id": "q1-solution", "solution": True, "grade": False, "locked": False}
    nbformat.write(nb, path)


def result(student, status="ok", score=1.0):
    questions = zero_results(QUESTIONS)
    questions[0].score = score
    return SubmissionResult(student, A, "nbgrader", status, "" if status == "ok" else "stub failure", 0.1,
                            questions)


@pytest.fixture
def engines(monkeypatch):
    """Stub the preparation, the engines and the gradebook; record what was called."""
    calls = types.SimpleNamespace(prepared=0, graded=[], status="ok")

    def prepare(config, root):
        calls.prepared += 1
        return types.SimpleNamespace(config=config, questions=QUESTIONS, course_template=root)

    def grade_one(batch, student, submission):
        calls.graded.append(student)
        return result(student, calls.status)

    monkeypatch.setattr(grade_module, "prepare_batch", prepare)
    monkeypatch.setattr(grade_module, "grade_one", grade_one)
    monkeypatch.setattr(grade_module, "write_gradebook", lambda *args, **kwargs: None)
    return calls


def grade(capsys, *args):
    code = main(["grade", "--assignment", A, *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_missing_submissions_folder_is_a_one_line_error(tmp_path, capsys, engines):
    out = tmp_path / "graded"
    code, stdout, stderr = grade(capsys, "--submissions", tmp_path / "nowhere", "--out", out)
    assert code == 2
    assert stderr.strip() == (f"error: --submissions {tmp_path / 'nowhere'}: no such folder. Give the folder that "
                              "holds the notebooks (<student>.ipynb or <student>/ folders).")
    assert "Traceback" not in stdout + stderr and not out.exists() and engines.prepared == 0


def test_a_file_given_as_submissions_is_a_one_line_error(tmp_path, capsys, engines):
    notebook(tmp_path / "ann.ipynb")
    code, stdout, stderr = grade(capsys, "--submissions", tmp_path / "ann.ipynb", "--out", tmp_path / "graded")
    assert code == 2 and len(stderr.strip().splitlines()) == 1
    assert "ann.ipynb is a file, not a folder. Put the notebooks in a folder" in stderr
    assert "Traceback" not in stdout + stderr and engines.prepared == 0


def test_an_empty_folder_warns_and_prepares_nothing(tmp_path, capsys, engines):
    (tmp_path / "submitted").mkdir()
    code, stdout, stderr = grade(capsys, "--submissions", tmp_path / "submitted", "--out", tmp_path / "graded")
    assert code == 0 and engines.prepared == 0 and engines.graded == []
    assert f"warning: no submissions in {tmp_path / 'submitted'}: nothing to grade" in stdout
    assert "graded 0" not in stdout and not (tmp_path / "graded").exists()


def test_graded_n_counts_this_run_only(tmp_path, capsys, engines):
    subs, out = tmp_path / "submitted", tmp_path / "graded"
    for student in ("ann", "bob", "cyd"):
        notebook(subs / f"{student}.ipynb")
    store = ResultsStore(out / "results")
    store.put(result("ann"))
    store.put(result("bob"))
    code, stdout, _ = grade(capsys, "--submissions", subs, "--out", out)
    assert code == 0 and engines.graded == ["cyd"]
    assert "graded 1 submission in this run (2 kept from earlier runs; --regrade grades them again)" in stdout
    assert len((out / "grades.csv").read_text().splitlines()) == 1 + 3 * len(QUESTIONS)


def test_a_rerun_with_everyone_graded_prepares_nothing(tmp_path, capsys, engines):
    subs, out = tmp_path / "submitted", tmp_path / "graded"
    notebook(subs / "ann.ipynb")
    ResultsStore(out / "results").put(result("ann"))
    code, stdout, _ = grade(capsys, "--submissions", subs, "--out", out)
    assert code == 0 and engines.prepared == 0 and engines.graded == []
    assert "graded 0 submissions in this run (1 kept from earlier runs" in stdout
    assert (out / "grades.csv").exists()
