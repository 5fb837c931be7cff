"""The course in a real browser: JupyterLab 4 in headless Chromium, driven as a student would.

1. Lectures 02 and 04: Run All, the plots appear, moving each slider redraws its output (with a
   busy sign while a slow redraw runs).
2. Assignment 1 (the student release): a self-check on the unfinished question fails; a partly
   wrong answer (a known mistake from ``solutions/a1/spec.py``) shows the message that names the
   faulty term; the correct answer, taken from the solution notebook's solution region and typed
   into the cell's editor, passes.
3. Save: the file on disk holds what was typed.
4. Reload the page with the kernel still running: the sliders still redraw.

Screenshots of every step go to ``build/test-artifacts/browser/`` (or ``$RECURRENT_ARTIFACTS/browser``).
Needs Debian's Chromium (``.ci/run`` installs it); without it the test fails in CI and skips elsewhere.
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from pathlib import Path

import nbformat
import pytest

from bench.lab_check import Lab, NotebookReport, find_chromium

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get("RECURRENT_ARTIFACTS", ROOT / "build" / "test-artifacts")) / "browser"
LECTURES = ["02_character_language_model.ipynb", "04_vanishing_exploding_clipping.ipynb"]
RELEASE = ROOT / "assignments" / "a1"
SOLUTION = ROOT / "solutions" / "a1" / "a1.ipynb"
QUESTION = "q1"
SLOW_REDRAW_S = 1.5  # a redraw that takes longer than this must have shown the busy sign

pytestmark = pytest.mark.browser


def _require_browser() -> None:
    missing = []
    if not find_chromium():
        missing.append("Chromium (Debian: apt-get install chromium; .ci/run does it)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright's Python package (comes with otter-grader: make env)")
    if missing:
        message = "the browser test needs " + " and ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    _require_browser()
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    folder = tmp_path_factory.mktemp("lab")
    for name in LECTURES:
        shutil.copy(ROOT / "course" / name, folder / name)
    shutil.copytree(RELEASE, folder / "a1")
    with Lab(folder, ARTIFACTS) as lab:
        yield lab


# --------------------------------------------------------------------------- 1 + 3 + 4: lectures

@pytest.mark.parametrize("name", LECTURES)
def test_lecture_plots_sliders_save_and_reload(lab, name):
    stem = name.split("_")[0]
    nb = lab.open(name)
    report = NotebookReport(name)
    report.seconds = nb.run_all(timeout=600)
    report.error_outputs, report.images = nb.error_outputs(), nb.images()
    lab.screenshot(f"{stem}_1_after_run_all")
    assert report.error_outputs == 0, f"{name}: {report.error_outputs} outputs with a traceback"
    assert report.images > 0, f"{name}: no plot images appeared"
    assert nb.widget_errors() == 0, f"{name}: a widget could not be displayed"

    nb.check_sliders(report, f"{stem}_1")
    print(f"{name}: Run All {report.seconds:.1f} s, {report.images} images, {report.lives} Live widgets, "
          f"sliders {[(s.label, s.redrew, s.busy_seen, s.seconds) for s in report.sliders]}, "
          f"memory now (MB) {lab.memory_mb()}")
    assert report.lives > 0 and report.sliders, f"{name}: no Live widget with a slider was found"
    stale = [s.label for s in report.sliders if not s.redrew]
    assert not stale, f"{name}: moving {stale} did not redraw the output"
    silent = [s.label for s in report.sliders if s.seconds > SLOW_REDRAW_S and not s.busy_seen]
    assert not silent, f"{name}: slow redraws of {silent} showed no busy sign"

    # 3: save; the notebook on disk holds the run (the widget output of every Live is there).
    nb.save()
    saved = nb.on_disk()
    widget_outputs = [o for c in saved["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])
                      if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(widget_outputs) >= report.lives, f"{name}: the saved file lacks the widget outputs"

    # 4: reload the page; the kernel keeps running, so the sliders must still redraw.
    nb.reload()
    nb.wait_lives(report.lives)
    lives = nb.lives()
    lab.screenshot(f"{stem}_2_after_reload")
    assert lives.count() == report.lives, f"{name}: {lives.count()} of {report.lives} Live widgets came back"
    assert nb.widget_errors() == 0, f"{name}: a widget could not be displayed after the reload"
    for i in range(lives.count()):
        moved = nb.nudge(lives.nth(i))
        lab.screenshot(f"{stem}_3_after_reload_live{i}_moved")
        assert moved.redrew, f"{name}: after a reload, moving {moved.label!r} did not redraw the output"


# --------------------------------------------------------------------------- 2 + 3: Assignment 1

def _check_cell(nb, question: str) -> int:
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and cell.source.strip() == f'grader.check("{question}")':
            return i
    raise AssertionError(f'no cell with grader.check("{question}") in the notebook')


def _strip_markers(source: str) -> str:
    return "\n".join(line for line in source.splitlines()
                     if not re.fullmatch(r"\s*### (BEGIN|END) SOLUTION\s*", line))


def answer_for(question: str) -> tuple[str, str]:
    """(cell id in the release, correct answer): the solution cell of ``question`` with the
    ``### BEGIN/END SOLUTION`` markers dropped, i.e. what the release stubs out, filled in."""
    solution = nbformat.read(SOLUTION, as_version=4)
    check = _check_cell(solution, question)
    cell = next(c for c in reversed(solution.cells[:check]) if "### BEGIN SOLUTION" in c.source)
    return cell.get("id"), _strip_markers(cell.source)


def stub_index(release, cell_id: str, check: int) -> int:
    """The release's cell the student writes in: same cell id, else the last stub before the check."""
    for i, cell in enumerate(release.cells):
        if cell_id and cell.get("id") == cell_id:
            return i
    return next(i for i in reversed(range(check)) if "YOUR CODE HERE" in release.cells[i].source)


def expected_check(question: str, source: str, folder: Path) -> tuple[bool, list[str], str]:
    """Run the public test of ``question`` on ``source`` here, with otter, in ``folder`` (a copy of the
    release: otter writes a log where it runs): (passed, the failure messages (last line of each
    failing case), the result as the page shows it (its HTML's text))."""
    import numpy as np
    import otter
    from bs4 import BeautifulSoup

    env = {"np": np}
    exec(compile("import numpy as np\n" + source, "<answer>", "exec"), env)
    cwd = os.getcwd()
    try:
        os.chdir(folder)
        result = otter.Notebook(tests_dir="tests").check(question, global_env=env)
    finally:
        os.chdir(cwd)
    failures = [r.message.strip().splitlines()[-1].strip() for r in result.test_case_results if not r.passed]
    text = BeautifulSoup(result._repr_html_(), "html.parser").get_text()
    return result.passed_all, failures, text


def squash(text: str) -> str:
    """Whitespace collapsed and pictographs dropped (otter ends "q1 passed!" with a random emoji)."""
    return " ".join("".join(ch for ch in text if unicodedata.category(ch) != "So").split())


def test_assignment_self_check_round_trip(lab, tmp_path):
    from autograder import assignments

    MISTAKES = assignments.get("a1").mistakes  # solutions/a1/spec.py

    here = shutil.copytree(RELEASE, tmp_path / "a1")

    release = nbformat.read(RELEASE / "a1.ipynb", as_version=4)
    check = _check_cell(release, QUESTION)
    cell_id, answer = answer_for(QUESTION)
    stub = stub_index(release, cell_id, check)
    mistakes = [(m.old, m.new, m.what) for m in MISTAKES.values() if m.question == QUESTION and m.old in answer]
    assert mistakes, f"solutions/a1/spec.py has no mistake for {QUESTION} that applies to its solution"
    old, new, what = mistakes[0]
    wrong = answer.replace(old, new, 1)

    nb = lab.open("a1/a1.ipynb")
    # A student runs the cells from the top down to the question's check.
    for i in range(check):
        if release.cells[i].cell_type == "code":
            nb.run_cell(i)

    # The unfinished question: the check fails, and says so.
    passed, failures, _ = expected_check(QUESTION, release.cells[stub].source, here)
    assert not passed and failures, "the release's stub passes its own self-check"
    shown = squash(nb.run_cell(check))
    lab.screenshot("a1_1_unfinished_check_fails", top=nb.cell(check))
    missing = [f for f in failures if squash(f) not in shown]
    assert not missing, f"the failing self-check does not show {missing}; it shows:\n{shown[:2000]}"

    # A partly wrong answer: the message names the faulty term.
    passed, failures, _ = expected_check(QUESTION, wrong, here)
    assert not passed and failures, f"the mistake {what!r} passes the self-check of {QUESTION}"
    nb.replace_source(stub, wrong)
    assert squash(nb.editor_text(stub)) == squash(wrong), "the editor does not hold what was typed"
    nb.run_cell(stub)
    shown = squash(nb.run_cell(check))
    lab.screenshot("a1_2_wrong_answer_names_the_term", top=nb.cell(check).locator(".jp-OutputArea"), align="end")
    missing = [f for f in failures if squash(f) not in shown]
    assert not missing, f"after the mistake ({what}) the self-check does not show {missing}; it shows:\n{shown[:2000]}"

    # The correct answer, typed into the editor: the check passes.
    passed, failures, pass_text = expected_check(QUESTION, answer, here)
    assert passed, f"the solution region of {QUESTION} fails its own self-check: {failures}"
    nb.replace_source(stub, answer)
    nb.run_cell(stub)
    shown = squash(nb.run_cell(check))
    lab.screenshot("a1_3_correct_answer_passes", top=nb.cell(check))
    assert squash(pass_text) in shown, f"expected {squash(pass_text)!r} after the correct answer; page shows:\n{shown[:2000]}"

    # 3: save; the file on disk holds the answer and the passing output.
    nb.save()
    lab.screenshot("a1_4_saved", top=nb.cell(stub))
    saved = nbformat.reads(nb.path.read_text(), as_version=4)
    assert squash(saved.cells[stub].source) == squash(answer), "the saved notebook does not hold the typed answer"
    from bs4 import BeautifulSoup

    html = " ".join(o.get("data", {}).get("text/html", "") for o in saved.cells[check].outputs)
    assert squash(pass_text) in squash(BeautifulSoup(html, "html.parser").get_text()), \
        "the saved notebook does not hold the passing self-check's output"
