"""End to end, for every assignment in the registry: its example submissions graded by both engines
(nbgrader autograde, otter run).

Specification (``MISTAKES`` of ``solutions/<aN>/spec.py``): the reference scores full marks, the blank
release scores 0, and each one-mistake submission scores below the maximum in the question it breaks
and full marks in every other question; both backends give identical scores. Slow (a fresh kernel per
notebook).
"""

import csv
import io
import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest

from autograder import assignments, notebooks, reference
from autograder.grade import GradeConfig, grade_batch
from autograder.sandbox import Limits
from conftest import ASSIGNMENT_NAMES

pytestmark = [pytest.mark.notebook, pytest.mark.engine]  # every test here runs engines and kernels

QUESTIONS = assignments.get("a1").questions
MISTAKES = assignments.get("a1").mistakes


def expected_ok(student: str, scores: dict[str, float], name: str = "a1") -> None:
    a = assignments.get(name)
    if student == "reference":
        assert scores == a.questions
    elif student == "blank":
        assert all(v == 0 for v in scores.values()), scores
    else:
        broken = a.mistakes[student].question
        for q, maximum in a.questions.items():
            if q == broken:
                assert scores[q] < maximum, f"{student} should lose points in {q}"
            else:
                assert scores[q] == maximum, f"{student} lost points in {q}: {scores}"


ALL_EXAMPLES = os.environ.get("RECURRENT_ALL_EXAMPLES") == "1"


def engine_sample(name: str) -> list[str]:
    """The example submissions graded here by both engines. An assignment whose notebook trains a model
    (a ``-train-given`` cell: tens of seconds per submission) is sampled: the reference, the blank release,
    the first mistake of the trained question and of the first question. Every mistake is still scored
    without a kernel (test_autograder_spec.py); ``RECURRENT_ALL_EXAMPLES=1`` grades them all here too."""
    a = assignments.get(name)
    everyone = ["reference", "blank", *a.mistakes]
    trained = [reference.grade_id(c).split("-")[0] for c in notebooks.read(a.notebook).cells if reference.is_training(c)]
    if ALL_EXAMPLES or not trained:
        return everyone
    first = {}
    for mistake, m in a.mistakes.items():
        first.setdefault(m.question, mistake)
    picked = {first[q] for q in (trained[0], next(iter(a.questions))) if q in first}
    return ["reference", "blank", *[m for m in a.mistakes if m in picked]]


@pytest.fixture(scope="module")
def graded_all(tmp_path_factory, examples) -> dict:
    """Both backends over every assignment's example submissions (``engine_sample``):
    {(name, backend): (out, {student: result})}."""
    runs = {}
    for name in ASSIGNMENT_NAMES:
        folder = tmp_path_factory.mktemp(f"sample-{name}")
        for student in engine_sample(name):
            shutil.copy(examples(name) / f"{student}.ipynb", folder / f"{student}.ipynb")
        for backend in ("nbgrader", "otter"):
            out = tmp_path_factory.mktemp(f"graded-{name}-{backend}")
            config = GradeConfig(name, folder, out, backend, "cpu", jobs=2, limits=Limits(wall_s=300))
            runs[name, backend] = (out, {r.student: r for r in grade_batch(config, progress=lambda msg: None)})
    return runs


@pytest.fixture(params=["nbgrader", "otter"])
def graded(request, graded_all):
    """A1 under one backend: (backend, out folder, results)."""
    return (request.param, *graded_all["a1", request.param])


@pytest.mark.parametrize("backend", ["nbgrader", "otter"])
@pytest.mark.parametrize("name", ASSIGNMENT_NAMES)
def test_examples_score_as_specified(name, backend, graded_all):
    _, results = graded_all[name, backend]
    mistakes = assignments.get(name).mistakes
    assert set(results) == set(engine_sample(name)) and len(mistakes) >= 2
    for student, result in results.items():
        assert result.status == "ok", f"{student}: {result.reason}"
        expected_ok(student, result.scores(), name)


@pytest.mark.parametrize("name", ASSIGNMENT_NAMES)
def test_backends_agree(name, graded_all):
    scores = {backend: {s: r.scores() for s, r in graded_all[name, backend][1].items()}
              for backend in ("nbgrader", "otter")}
    assert scores["nbgrader"] == scores["otter"]


def test_a1_scores_are_as_before(graded_all):
    """A1's example submissions score what they scored before A1 moved to solutions/a1/ and to the
    course's layout (the first twelve rows); the mistakes added with the layout after them
    (autograder/README.md's table)."""
    before = {"reference": 19, "blank": 0, "q1_missing_tanh_derivative": 17, "q2_dW_not_summed_over_time": 17,
              "q2_dprev_h_not_propagated": 17, "q2_off_by_one_in_time": 16.5, "q3_embedding_overwrites": 18,
              "q4_mask_ignored": 17.5, "q4_unstable_softmax": 18, "q5_clip_by_squared_norm": 17,
              "q6_temperature_multiplies": 17, "q7_gradient_ascent": 16}
    added = {"q1_cs231n_layout": 16, "q1_dprev_h_transposed": 17, "q1_dW_hh_transposed": 17, "q1_one_bias": 16,
             "q2_upstream_only_at_the_end": 17.5, "q4_summed_over_time": 16.5, "q7_sqrt_memory_multiplies": 16,
             "q7_plain_sgd": 16, "q1_delegates_to_utils": 16}
    for backend in ("nbgrader", "otter"):
        assert {s: r.score for s, r in graded_all["a1", backend][1].items()} == {**before, **added}


def test_grades_csv(graded):
    _, out, results = graded
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert list(rows[0]) == ["student", "assignment", "question", "score", "max_score", "status", "reason"]
    assert len(rows) == len(results) * len(QUESTIONS)
    for row in rows:
        assert float(row["score"]) == results[row["student"]].scores()[row["question"]]
        assert float(row["max_score"]) == QUESTIONS[row["question"]] and row["status"] == "ok"


def test_gradebook_holds_the_clean_scores(graded):
    from nbgrader.api import Gradebook

    _, out, results = graded
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        for student, result in results.items():
            submission = gb.find_submission("a1", student)
            assert submission.score == pytest.approx(result.score)
            assert submission.max_score == pytest.approx(sum(QUESTIONS.values()))


def test_feedback_shows_results_but_no_hidden_test_source(graded):
    _, out, results = graded
    for student in results:
        html = (out / "feedback" / f"{student}.html").read_text()
        assert "capture(" not in html and "BEGIN HIDDEN" not in html and "inputs.npz" not in html
    page = (out / "feedback" / "q2_dprev_h_not_propagated.html").read_text()
    assert "first wrong at t = " in page  # BPTT localisation reaches the student
    assert "backward_reaches_h0" in page  # the self-check results are there too


def test_resume_grades_nothing_twice(graded, examples):
    backend, out, results = graded
    before = {p.name: p.read_text() for p in (out / "results").glob("*.json")}
    messages = []
    again = grade_batch(GradeConfig("a1", examples("a1"), out, backend, "cpu", jobs=2), progress=messages.append)
    assert "0 to grade" in messages[0]
    assert {p.name: p.read_text() for p in (out / "results").glob("*.json")} == before
    assert {r.student: r.scores() for r in again} == {s: r.scores() for s, r in results.items()}


def test_broken_submissions_score_zero_with_a_status(tmp_path, examples):
    """A bad notebook and a SIGINT-ignoring infinite loop: status and reason, zero, the batch goes on."""
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "garbage.ipynb").write_text("{ this is not json")
    nb = nbformat.read(examples("a1") / "reference.ipynb", as_version=4)
    nb.cells.insert(2, nbformat.v4.new_code_cell(
        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"))
    nbformat.write(nb, subs / "loops.ipynb")
    config = GradeConfig("a1", subs, tmp_path / "out", "otter", "cpu", jobs=2, limits=Limits(wall_s=20))
    results = {r.student: r for r in grade_batch(config, progress=lambda msg: None)}
    assert results["garbage"].status == "bad_notebook" and results["garbage"].score == 0
    assert results["loops"].status == "timeout" and results["loops"].score == 0
    assert results["loops"].seconds < 60, "the process group was not killed at the limit"
    rows = list(csv.DictReader((tmp_path / "out" / "grades.csv").open()))
    assert {r["status"] for r in rows if r["student"] == "loops"} == {"timeout"}
    assert json.loads((tmp_path / "out" / "results" / "loops.json").read_text())["reason"]


@pytest.mark.parametrize("name,example", [("a1", "q4_mask_ignored"), ("t1", "q1_bias_subtracted")])
def test_gradescope_zip_runs_the_pipeline(name, example, tmp_path, examples):
    """The Gradescope zip, unpacked like /autograder/source, grades one submission with clean verdicts;
    it ships utils/ and the requirements the assignment needs (torch for a torch assignment)."""
    import os
    import stat
    import subprocess
    import sys
    import zipfile

    from autograder.gradescope import build_zip

    source = tmp_path / "source"
    with zipfile.ZipFile(build_zip(name, tmp_path / "autograder.zip")) as zf:
        names = zf.namelist()
        assert "run_autograder" in names and stat.S_IMODE(zf.getinfo("run_autograder").external_attr >> 16) & 0o100
        notebooks_in_zip = sorted(n for n in names if n.endswith(".ipynb"))
        assert notebooks_in_zip == [f"assignments/{name}/{name}.ipynb", f"solutions/{name}/{name}.ipynb"]
        assert not any(n.endswith(".db") for n in names)
        assert "utils/rnn.py" in names and f"solutions/{name}/spec.py" in names
        assert ("torch" in zf.read("requirements.txt").decode()) == (name == "t1")
        zf.extractall(source)
    submission = tmp_path / "submission"
    submission.mkdir()
    shutil.copy(examples(name) / f"{example}.ipynb", submission / f"{name}.ipynb")
    env = dict(os.environ, PYTHONPATH=str(source), PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    env.pop("RECURRENT_COURSE_ROOTS", None)  # the zip is a course root of its own
    proc = subprocess.run([sys.executable, "-m", "autograder", "gradescope-run", "--assignment", name,
                           "--submission", str(submission), "--results", str(tmp_path / "results.json")],
                          cwd=source, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads((tmp_path / "results.json").read_text())
    scores = {t["name"]: t["score"] for t in data["tests"]}
    expected_ok(example, scores, name)
    assert data["score"] == sum(scores.values())
    assert "capture(" not in json.dumps(data)


def test_class_report_and_summary(graded):
    """report.html and grades_summary.csv for the example class, checked against the results."""
    from bs4 import BeautifulSoup

    from autograder.report import TOP_MESSAGES, class_report, common_messages, summary_csv

    _, out, results = graded
    rows = list(csv.DictReader(io.StringIO(summary_csv(list(results.values())))))
    assert [r["student"] for r in rows] == sorted(results)
    for row in rows:
        scores = results[row["student"]].scores()
        assert float(row["total"]) == sum(scores.values())
        assert {q: float(row[q]) for q in QUESTIONS} == scores
    assert (out / "grades_summary.csv").read_text() == summary_csv(list(results.values()))  # grade wrote it too

    page = BeautifulSoup(class_report(list(results.values()), out / "report.html").read_text(), "html.parser")
    figures = {img["data-figure"] for img in page.select("img.figure")}
    assert figures == {"total", "seconds", *QUESTIONS}, figures
    assert all(img["src"].startswith("data:image/png;base64,") and len(img["src"]) > 1000
               for img in page.select("img.figure"))
    ok = page.select_one("tr[data-status='ok']").find_all("td")
    assert int(ok[1].text) == len(results)
    for question, maximum in QUESTIONS.items():
        section = page.select_one(f"section[data-question='{question}']")
        lost = [s for s, r in results.items() if r.scores()[question] < maximum]
        counts = [int(li["data-count"]) for li in section.select("li[data-count]")]
        # every submission that lost points here has at least one message (the page lists the
        # TOP_MESSAGES most common and says how many more there are); none is counted twice
        listed = common_messages(list(results.values())).get(question, [])
        assert sum(n for n, _ in listed) >= len(lost) and max(counts, default=0) <= len(lost), (question, listed, lost)
        assert counts == [n for n, _ in listed[:TOP_MESSAGES]]
        more = len(listed) - TOP_MESSAGES
        assert (f"and {more} other messages" in section.text) == (more > 0), question
        for li in section.select("li[data-count]"):  # each count is right for its (exact) message
            text = li.text.split(": ", 1)[1]
            having = [s for s, r in results.items() for q in r.questions if q.question == question
                      and any(not c.passed and c.message == text for c in q.cases)]
            assert 1 <= len(having) <= int(li["data-count"]), (question, text)
    assert "capture(" not in str(page) and "BEGIN SOLUTION" not in str(page)
