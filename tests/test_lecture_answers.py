"""Lectures 01 and 03: the "check your understanding" cells accept the right answers.

The notebooks themselves are executed by ``test_notebooks.py`` (unanswered, their checks print
"not answered yet"). Here the code cells run in this process with every ``answer = ...`` replaced
by the answer given in the notebook's answer box, and every ``raise NotImplementedError`` by a
correct implementation: each check must then print ✓, so the answer key, the checkers and the
notebook cannot drift apart. A few wrong answers must get their specific hints.
"""

import contextlib
import io
import re
from pathlib import Path

import matplotlib
import nbformat
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

COURSE = Path(__file__).resolve().parents[1] / "course"

STEP = "return np.tanh(x @ W_ih.T + b_ih + prev_h @ W_hh.T + b_hh)"
STEP_BACKWARD = """x, prev_h, W_ih, W_hh, next_h = cache
    da = dnext_h * (1 - next_h ** 2)
    return da @ W_ih, da @ W_hh, da.T @ x, da.T @ prev_h, da.sum(0), da.sum(0)"""

LECTURES = {
    "01_sequences_and_recurrence.ipynb": dict(
        answers=["745", "1", "(8, 5)", '"b"'], implementation=STEP, skip=(), checks=5,
        wrong={0: ("725", "two biases"), 2: ("(8, 50, 5)", "many-to-many")}),
    "03_backprop_through_time.ipynb": dict(
        answers=["200", "(1, 25)", "(2, 1)", '"b"'], implementation=STEP_BACKWARD,
        skip=("runs = {}",),  # the three training runs: slow, and nothing below needs them
        checks=5, wrong={0: ("2000", "divide by N"), 1: ("(25, 25)", "detached")}),
}


def _cells(name):
    nb = nbformat.read(COURSE / name, as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code"]


def _exec(sources, answers, implementation, skip, namespace):
    """Execute the cells in ``namespace`` with the answers filled in; return what they printed."""
    answers = iter(answers)
    out = io.StringIO()
    threads = torch.get_num_threads()
    try:
        with contextlib.redirect_stdout(out), plt.ioff():
            for src in sources:
                if any(marker in src for marker in skip):
                    continue
                src = re.sub(r"^answer = \.\.\.", lambda _: f"answer = {next(answers)}", src, flags=re.M)
                src = src.replace("raise NotImplementedError  # your code here", implementation)
                exec(compile(src, "<cell>", "exec"), namespace)
                plt.close("all")
    finally:
        torch.set_num_threads(threads)
    assert next(answers, None) is None, "the notebook has fewer `answer = ...` cells than the key"
    return out.getvalue()


@pytest.fixture(scope="module", params=list(LECTURES))
def lecture(request):
    """Run the whole lecture once with the right answers; keep its namespace and output."""
    name = request.param
    spec = LECTURES[name]
    namespace = {"__name__": "__lecture__"}
    printed = _exec(_cells(name), spec["answers"], spec["implementation"], spec["skip"], namespace)
    return name, spec, namespace, printed


def test_right_answers_get_a_tick(lecture):
    _, spec, _, printed = lecture
    marks = [line for line in printed.splitlines() if line.startswith(("✓ Q", "✗ Q", "… Q"))]
    assert len(marks) == spec["checks"], printed[-3000:]
    assert all(m.startswith("✓") for m in marks), "\n".join(marks)


def test_known_wrong_answers_get_their_hint(lecture):
    """Re-run only the question cells (everything they use is defined by then) with wrong answers."""
    name, spec, namespace, _ = lecture
    answers = list(spec["answers"])
    for index, (wrong, _) in spec["wrong"].items():
        answers[index] = wrong
    questions = [s for s in _cells(name) if re.search(r"^answer = \.\.\.", s, flags=re.M)]
    printed = _exec(questions, answers, spec["implementation"], spec["skip"], namespace)
    crosses = [line for line in printed.splitlines() if line.startswith("✗ Q")]
    hints = [hint for _, hint in spec["wrong"].values()]
    assert len(crosses) == len(hints), printed[-3000:]
    for line, hint in zip(crosses, hints):
        assert hint in line, line
