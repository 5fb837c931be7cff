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
    calls = types.SimpleNamespace(prepared=0, graded=[], status="ok", submissions={})

    def prepare(config, root):
        calls.prepared += 1
        return types.SimpleNamespace(config=config, questions=QUESTIONS, course_template=root, root=root)

    real_grade_one = grade_module.grade_one

    def grade_one(batch, student, submission):
        calls.graded.append(student)
        calls.submissions[student] = submission
        if not submission.ok:  # refused at intake: the real grade_one runs no engine for it
            return real_grade_one(batch, student, submission)
        return result(student, calls.status)

    monkeypatch.setattr(grade_module, "prepare_batch", prepare)
    monkeypatch.setattr(grade_module, "grade_one", grade_one)
    monkeypatch.setattr(grade_module, "write_gradebook", lambda *args, **kwargs: None)
    monkeypatch.setattr(grade_module, "check_setup", lambda batch: None)  # tested below, for real
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


# ---------------------------------------------------------------- a broken set-up is loud


def test_a_run_that_grades_nobody_exits_non_zero(tmp_path, capsys, engines):
    subs = tmp_path / "submitted"
    for student in ("ann", "bob"):
        notebook(subs / f"{student}.ipynb")
    engines.status = "engine_error"
    code, stdout, stderr = grade(capsys, "--submissions", subs, "--out", tmp_path / "graded")
    assert code == 1 and engines.graded == ["ann", "ann", "bob", "bob"]  # each engine_error run once more
    assert stderr.strip().splitlines() == [
        "error: could grade nobody: all 2 submissions of this run failed with engine_error (first, ann: stub "
        "failure). This is most likely the grading set-up, not the students: fix it and run again (grader_error "
        "is retried; add --regrade for engine_error)."]


def test_one_real_score_is_not_a_broken_set_up(tmp_path, capsys, engines):
    subs = tmp_path / "submitted"
    notebook(subs / "ann.ipynb")
    engines.status = "timeout"  # the submission's own fault: graded (0), not the grader's failure
    code, _, stderr = grade(capsys, "--submissions", subs, "--out", tmp_path / "graded")
    assert code == 0 and stderr == ""


def test_a_setup_error_stops_before_any_submission(tmp_path, capsys, engines, monkeypatch):
    subs = tmp_path / "submitted"
    notebook(subs / "ann.ipynb")

    def broken(batch):
        raise grade_module.SetupError("the grading set-up is broken: stub")

    monkeypatch.setattr(grade_module, "check_setup", broken)
    code, _, stderr = grade(capsys, "--submissions", subs, "--out", tmp_path / "graded")
    assert code == 1 and engines.graded == [] and stderr == "error: the grading set-up is broken: stub\n"
    assert not (tmp_path / "graded" / "results").exists()


def broken_python_batch(tmp_path, monkeypatch, isolate):
    import autograder.engines as engines_module
    from autograder.grade import Batch, GradeConfig

    missing = tmp_path / "elsewhere" / "venv" / "bin" / "python"  # e.g. a .venv symlink the sandbox hides
    monkeypatch.setattr(engines_module, "PYTHON", str(missing))
    for name in ("inputs", "tests"):
        (tmp_path / name).mkdir()
    config = GradeConfig(A, tmp_path, tmp_path / "graded", isolate=isolate)
    return missing, Batch(config, tmp_path, tmp_path / "inputs", None, None, None, None, tmp_path / "tests",
                          [], None, QUESTIONS)


@pytest.mark.parametrize("isolate", [False, True])
def test_the_setup_check_names_an_interpreter_that_cannot_start(tmp_path, monkeypatch, isolate):
    missing, batch = broken_python_batch(tmp_path, monkeypatch, isolate)
    with pytest.raises(grade_module.SetupError) as caught:
        grade_module.check_setup(batch)
    message = str(caught.value)
    assert message.startswith("the grading set-up is broken: a ") and "could not start" in message
    assert "FileNotFoundError" in message and str(missing) in message and "\n" not in message
    assert message.endswith("Nothing was graded; fix the environment and run again.")


def test_could_not_start_is_the_graders_failure_never_a_students_zero(tmp_path, monkeypatch):
    from autograder.results import RETRIED

    _, batch = broken_python_batch(tmp_path, monkeypatch, isolate=False)
    notebook(tmp_path / "ann.ipynb")
    batch.release = nbformat.read(tmp_path / "ann.ipynb", as_version=4)
    batch.sandbox_course = tmp_path / "course"
    batch.sandbox_course.mkdir()
    result = grade_module.grade_one(batch, "ann", tmp_path / "ann.ipynb")
    assert result.status == "grader_error" and result.status in RETRIED, (result.status, result.reason)
    assert result.reason.startswith("the grader could not start the command: FileNotFoundError")
    assert "not the submission's; it is graded again on the next run" in result.reason


def test_a_symlinked_environment_is_exposed_where_it_really_lives(tmp_path, monkeypatch):
    import sys

    from autograder import sandbox

    real = tmp_path / "envs" / "course"
    real.mkdir(parents=True)
    (tmp_path / ".venv").symlink_to(real)
    monkeypatch.setattr(sys, "prefix", str(tmp_path / ".venv"))
    assert real in sandbox.default_expose()


@pytest.mark.engine
def test_the_setup_check_starts_a_sandboxed_kernel(tmp_path):
    from autograder.grade import Batch, GradeConfig

    for name in ("inputs", "tests"):
        (tmp_path / name).mkdir()
    config = GradeConfig(A, tmp_path, tmp_path / "graded", isolate=True)
    batch = Batch(config, tmp_path, tmp_path / "inputs", None, None, None, None, tmp_path / "tests", [], None,
                  QUESTIONS)
    grade_module.check_setup(batch)  # raises SetupError if the kernel does not start


# ---------------------------------------------------------------- intake: the wrong notebook, two copies


def test_a_lecture_is_bad_notebook_and_two_copies_are_flagged_on_the_console(tmp_path, capsys, engines):
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    subs, out = tmp_path / "submitted", tmp_path / "graded"
    subs.mkdir()
    (subs / "ann.ipynb").write_bytes((repo / "course" / "03_backprop_through_time.ipynb").read_bytes())
    (subs / "bob").mkdir()
    (subs / "bob" / "a1.ipynb").write_bytes((repo / "assignments" / "a1" / "a1.ipynb").read_bytes())
    (subs / "bob" / "a1-Copy1.ipynb").write_bytes((repo / "solutions" / "a1" / "a1.ipynb").read_bytes())
    code, stdout, _ = grade(capsys, "--submissions", subs, "--out", out)
    stored = ResultsStore(out / "results")
    assert code == 0 and stored.get("ann").status == "bad_notebook"
    assert stored.get("ann").reason.startswith("ann.ipynb is not assignment a1: it has none of the assignment's")
    assert "bob: warning: 2 copies of a1 in bob/ (a1-Copy1.ipynb: " in stdout
    assert "graded a1-Copy1.ipynb, by the rule: the copy with the most answered cells" in stdout
    assert engines.submissions["bob"].warnings[0].startswith("2 copies of a1 in bob/")  # -> its feedback notes
    assert "ann.ipynb is not assignment a1" in (out / "feedback" / "ann.html").read_text()


def test_every_default_wall_timeout_is_the_one_constant(monkeypatch):
    """Limits, both command lines and nbgrader's cell timeout take autograder.defaults.WALL_S."""
    import argparse
    import runpy
    from pathlib import Path

    import autograder.__main__ as cli
    from autograder.defaults import WALL_S
    from autograder.sandbox import Limits

    assert Limits().wall_s == WALL_S
    parsers = []

    def stop(parser, *args, **kwargs):
        parsers.append(parser)
        raise SystemExit(0)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", stop)
    with pytest.raises(SystemExit):
        cli.main([])
    verbs = next(a for a in parsers[0]._actions if isinstance(a, argparse._SubParsersAction)).choices
    timeouts = {name: next(o.default for o in sub._actions if "--timeout" in o.option_strings)
                for name, sub in verbs.items() if any("--timeout" in o.option_strings for o in sub._actions)}
    assert timeouts == {"grade": WALL_S, "gradescope-run": WALL_S}

    class Config:
        def __getattr__(self, name):
            value = types.SimpleNamespace()
            object.__setattr__(self, name, value)
            return value

    config = Config()
    runpy.run_path(str(Path(cli.__file__).with_name("nbgrader_config.py")), {"get_config": lambda: config})
    assert config.Execute.timeout == WALL_S


def test_an_engine_error_is_retried_once(tmp_path, capsys, engines, monkeypatch):
    subs, out = tmp_path / "submitted", tmp_path / "graded"
    notebook(subs / "ann.ipynb")
    outcomes = iter(["engine_error", "ok"])
    stub = grade_module.grade_one

    def flaky(batch, student, submission):
        stub(batch, student, submission)
        return result(student, next(outcomes))

    monkeypatch.setattr(grade_module, "grade_one", flaky)
    code, stdout, _ = grade(capsys, "--submissions", subs, "--out", out)
    assert code == 0 and engines.graded == ["ann", "ann"]
    stored = ResultsStore(out / "results").get("ann")
    assert stored.status == "ok"
    assert "the engine failed once and was run again (first run: stub failure)" in stored.notes


def test_corrupt_and_old_records_do_not_crash_the_batch(tmp_path, capsys, engines):
    subs, out = tmp_path / "submitted", tmp_path / "graded"
    for student in ("ann", "bob", "cyd"):
        notebook(subs / f"{student}.ipynb")
    results = out / "results"
    ResultsStore(results).put(result("ann"))
    (results / "bob.json").write_text('{"student": "bob", "sco')  # torn by a crash
    (results / "cyd.json").write_text('{"student": "cyd", "status": "ok", "total": 3}')  # an older grader's
    code, stdout, err = grade(capsys, "--submissions", subs, "--out", out, "--question", "q1")
    assert code == 0, err
    assert sorted(engines.graded) == ["ann", "bob", "cyd"]
    assert {r.student for r in ResultsStore(results).all()} == {"ann", "bob", "cyd"}
    assert len((out / "grades.csv").read_text().splitlines()) == 1 + 3 * len(QUESTIONS)
