"""Lectures 01-04: the "check your understanding" cells accept the right answers, name known mistakes,
and keep the expected answers out of sight (in utils.selfcheck, keyed by question).

The notebooks themselves are executed by ``test_notebooks.py`` (unanswered, their checks print
"not answered yet"). Here the code cells run in this process with every ``answer... = ...`` replaced
by a right answer, and every ``raise NotImplementedError`` by a correct implementation: each check
must then print ✓, so the answer key, the checkers and the notebook cannot drift apart. Cells tagged
``slow`` (training runs that no question needs) are skipped; a question cell that needed one would
fail here with a NameError.
"""

import contextlib
import functools
import io
import re
from pathlib import Path

import matplotlib
import nbformat
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from utils.selfcheck import question  # noqa: E402

COURSE = Path(__file__).resolve().parents[1] / "course"
ANSWER = re.compile(r"^(answer\w*) = \.\.\.", flags=re.M)
SLOW = "slow"  # cell tag: long-running and not needed by any question

STEP = "return np.tanh(x @ W_ih.T + b_ih + prev_h @ W_hh.T + b_hh)"
STEP_BACKWARD = """x, prev_h, W_ih, W_hh, next_h = cache
    da = dnext_h * (1 - next_h ** 2)
    return da @ W_ih, da @ W_hh, da.T @ x, da.T @ prev_h, da.sum(0), da.sum(0)"""

# answers: in the order of the notebook's `answer... = ...` lines (some rounded to 3 significant
# digits, as a learner would type them); wrong: answer index -> (wrong answer, words its hint must hold).
LECTURES = {
    "01_sequences_and_recurrence.ipynb": dict(
        answers=["745", "1", "(8, 5)", '"b"', "(20, 30)"], implementation=STEP, checks=6,
        wrong={0: ("725", "two biases"), 2: ("(8, 50, 5)", "many-to-many"), 4: ("(30, 20)", "transposed")}),
    "02_character_language_model.ipynb": dict(
        answers=["V", '"c"', "0.278", '"b"', "3", "math.exp(1.5)", "2.16", '"c"',
                 "softmax(np.array([2.0, 1.0, 0.0]) / 0.5)[0]"], implementation=None, checks=9,
        wrong={0: ("math.log(V)", "cross-entropy in nats"), 2: ("10 / 27", "denominator"),
               8: ("0.665", "τ = 1")}),
    "03_backprop_through_time.ipynb": dict(
        answers=["200", "(1, 25)", "(2, 1)", '"b"', '"b"', '"b"'], implementation=STEP_BACKWARD, checks=7,
        wrong={0: ("2000", "divide by N"), 1: ("(25, 25)", "detached"), 5: ('"a"', "transpose both sides")}),
    "04_vanishing_exploding_clipping.ipynb": dict(
        answers=["0.9 ** 20", "5", "0.1", '"c"', "0.956", "0.8", '"b"', '"b"'], implementation=None, checks=8,
        wrong={0: ("18", "multiply"), 2: ("5", "correct algorithm"), 5: ("0.2", "sigmoid")}),
}


def _cells(name, skip_slow=True):
    nb = nbformat.read(COURSE / name, as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code"
            and not (skip_slow and SLOW in c.get("metadata", {}).get("tags", []))]


def _exec(sources, answers, implementation, namespace):
    """Execute the cells in ``namespace`` with the answers filled in; return what they printed."""
    answers = iter(answers)
    out = io.StringIO()
    threads = torch.get_num_threads()
    try:
        with contextlib.redirect_stdout(out), plt.ioff():
            for src in sources:
                src = ANSWER.sub(lambda m: f"{m.group(1)} = {next(answers)}", src)
                if implementation:
                    src = src.replace("raise NotImplementedError  # your code here", implementation)
                exec(compile(src, "<cell>", "exec"), namespace)
                plt.close("all")
    finally:
        torch.set_num_threads(threads)
    assert next(answers, None) is None, "the notebook has fewer `answer = ...` cells than the key"
    return out.getvalue()


@functools.lru_cache(maxsize=None)
def run_lecture(name):
    """Run the lecture's fast cells once with the right answers; keep its namespace and output."""
    spec = LECTURES[name]
    namespace = {"__name__": "__lecture__"}
    printed = _exec(_cells(name), spec["answers"], spec["implementation"], namespace)
    return namespace, printed


@pytest.fixture(scope="module", params=list(LECTURES))
def lecture(request):
    name = request.param
    namespace, printed = run_lecture(name)
    return name, LECTURES[name], namespace, printed


def _marks(printed):
    return [line for line in printed.splitlines() if line.startswith(("✓ Q", "✗ Q", "… Q"))]


@pytest.mark.slow
def test_right_answers_get_a_tick(lecture):
    _, spec, _, printed = lecture
    marks = _marks(printed)
    assert len(marks) == spec["checks"], printed[-3000:]
    assert all(m.startswith("✓") for m in marks), "\n".join(marks)


@pytest.mark.slow
def test_known_wrong_answers_get_their_hint(lecture):
    """Re-run only the question cells (everything they use is defined by then) with wrong answers."""
    name, spec, namespace, _ = lecture
    answers = list(spec["answers"])
    for index, (wrong, _) in spec["wrong"].items():
        answers[index] = wrong
    questions = [s for s in _cells(name) if ANSWER.search(s)]
    printed = _exec(questions, answers, spec["implementation"], namespace)
    crosses = [line for line in printed.splitlines() if line.startswith("✗ Q")]
    hints = [hint for _, hint in spec["wrong"].values()]
    assert len(crosses) == len(hints), printed[-3000:]
    for line, hint in zip(crosses, hints):
        assert hint in line, line


@pytest.mark.slow
def test_unanswered_questions_say_so(lecture):
    name, spec, namespace, _ = lecture
    questions = [s for s in _cells(name) if ANSWER.search(s)]
    printed = _exec([ANSWER.sub(lambda m: f"{m.group(1)} = ...", s) for s in questions],
                    ["..."] * len(spec["answers"]), None, namespace)
    marks = _marks(printed)
    assert marks and all(m.startswith("…") and "not answered" in m for m in marks), printed


@pytest.mark.parametrize("name", list(LECTURES))
def test_cells_hold_no_expected_answers(name):
    """Every question is checked by key; no cell passes the expected value to check_answer."""
    sources = _cells(name, skip_slow=False)
    number = name[:2]
    keys = re.findall(r'check\("(\d\d)\.(\w+)"', "\n".join(sources))
    assert len(keys) == len(LECTURES[name]["answers"])
    for lecture_number, key in keys:
        assert lecture_number == number, f"{name} checks a question of lecture {lecture_number}"
        question(f"{lecture_number}.{key}")                      # raises if the key does not exist
    assert not any("check_answer(" in s for s in sources)


@pytest.mark.parametrize("name", list(LECTURES))
def test_slow_cells_are_tagged_not_matched(name):
    """The skip list is the `slow` tag; the fast cells alone define everything the questions use."""
    nb = nbformat.read(COURSE / name, as_version=4)
    slow = [c for c in nb.cells if SLOW in c.get("metadata", {}).get("tags", [])]
    assert all(c.cell_type == "code" for c in slow)
    assert not any(ANSWER.search(c.source) for c in slow), "a question cell is tagged slow"


@pytest.mark.slow
def test_lecture_03_memory_answer_is_what_saved_bytes_measures():
    """Q4's key (2, 1) against a measurement with the lecture's own `saved_bytes`."""
    ns, _ = run_lecture("03_backprop_through_time.ipynb")
    CharRNN, saved_bytes, data, V = ns["CharRNN"], ns["saved_bytes"], ns["data"], ns["V"]

    def per_update(k, L):
        torch.manual_seed(0)
        m, h, peak = CharRNN(V, hidden_size=64), None, 0
        x = torch.as_tensor(data.train[: 4 * L]).view(4, L)
        for s in range(0, L, k):
            (logits, h), nbytes = saved_bytes(lambda: m(x[:, s:s + k], h), m.parameters())
            logits.sum().backward()
            h, peak = h.detach(), max(peak, nbytes)
        return peak

    base = per_update(16, 128)
    measured = (round(per_update(32, 128) / base), round(per_update(16, 256) / base))
    assert measured == question("03.memory_scaling").expected()
