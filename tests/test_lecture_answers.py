"""Lectures 01-10: the "check your understanding" cells accept the right answers, name known mistakes,
and keep the expected answers out of sight (in utils.selfcheck, keyed by question).

The notebooks themselves are executed by ``test_notebooks.py`` (unanswered, their checks print
"not answered yet"). Here the code cells run in this process with every ``answer... = ...`` replaced
by a right answer, and the exercise's ``raise NotImplementedError`` line by a correct implementation:
each check must then print ✓, so the answer key, the checkers and the notebook cannot drift apart.

Lectures 01-04: every cell runs except those tagged ``slow`` (training runs that no question needs);
a question cell that needed one would fail here with a NameError. Lectures 05-10 train for most of
their minute, so only their ``setup`` cells (the imports, and what a question is about) run before
the section's cells: a question that leaned on anything else in the lecture would fail here.
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
LSTM_STEP = """a = x @ W_ih.T + b_ih + prev_h @ W_hh.T + b_hh
    i, f, g, o = np.split(a, 4, axis=1)                                 # torch's order
    next_c = sigmoid(f) * prev_c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(next_c), next_c"""
GRU_STEP = """H = prev_h.shape[1]
    ai, ah = x @ W_ih.T + b_ih, prev_h @ W_hh.T + b_hh                  # blocks r, z, n
    r, z = sigmoid(ai[:, :H] + ah[:, :H]), sigmoid(ai[:, H:2 * H] + ah[:, H:2 * H])
    n = np.tanh(ai[:, 2 * H:] + r * ah[:, 2 * H:])                     # reset after the matmul
    return (1 - z) * n + z * prev_h"""
PLACEHOLDER = re.compile(r"raise NotImplementedError  # (your code here|replace this line with your code.*)$", flags=re.M)

# answers: in the order of the notebook's `answer... = ...` lines (some rounded to 3 significant
# digits, as a learner would type them); wrong: answer index -> (wrong answer, words its hint must hold);
# setup (05-10): the ids of the cells run before the check section; printed: lines the run must print
# besides the questions' (the exercise's checker, and its worked failure).
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
    "05_lstm.ipynb": dict(
        answers=["12", "0.9 ** 10", "1", "(10, 15)", '"c"'], implementation=LSTM_STEP, checks=5,
        setup=["42c5d977"], printed=["✓ LSTM step", "✗ a step in CS231n's gate order"],
        wrong={0: ("3", "that is H"), 1: ("9", "multiply"), 2: ("1.5", "candidate g"), 3: ("(15, 20)", "that is o"),
               4: ('"a"', None)}),
    "06_gru_and_variants.ipynb": dict(
        answers=["3 * 20 * 10 + 3 * 20 * 20 + 6 * 20", "0.7", "0.4", "False", '"b"'], implementation=GRU_STEP,
        checks=5, setup=["8a7e85c3"], printed=["✓ GRU step", "✗ the paper's GRU"],
        wrong={0: ("2560", "LSTM"), 1: ("0", "'write' convention"), 3: ("True", "two"), 4: ('"a"', None)}),
    "07_deep_bidirectional_classification.ipynb": dict(
        answers=["40", "4", "40", "0.55", '"b"'], implementation=None, checks=5, setup=["24e8959f"],
        wrong={0: ("20", "one direction"), 1: ("2", "not both"), 2: ("20", "2H wide"), 3: ("0.84", "accuracy"),
               4: ('"a"', None)}),
    "08_seq2seq_and_beam_search.ipynb": dict(
        answers=["15 ** 3", "3 * 15", "np.exp(1 - 6 / 2)", '"b"'], implementation=None, checks=4, setup=["1"],
        wrong={0: ("45", "multiply"), 1: ("3", "kept"), 2: ("1 / 3", "c / r"), 3: ('"c"', None)}),
    "09_attention.ipynb": dict(
        answers=["np.exp(2) / (np.exp(1) + np.exp(2))", "2 * 32 * 64 + 32", "11 * 20", '"b"'],
        implementation=None, checks=4, setup=["1"],
        wrong={0: ("0.245", "padded position"), 1: ("4096", "general"), 2: ("31", "multiply"), 3: ('"a"', None)}),
    "10_applications.ipynb": dict(
        answers=["(48 - 8) // 2 + 1",
                 'np.mean([s.sentences[-1].rstrip(".").split()[-1] == s.answer for s in test_stories["single"]])', '"b"'],
        implementation=None, checks=3, setup=["1", "12"],
        wrong={0: ("24", "fit inside"), 1: ("0.0", "last word of its last sentence"), 2: ('"c"', None)}),
}


def _cells(name, skip_slow=True):
    """The code cells that this test runs: without the `slow` ones (01-04), or only the `setup` cells and
    the check section (05-10: from the first question on)."""
    nb = nbformat.read(COURSE / name, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    setup = LECTURES.get(name, {}).get("setup")
    if setup is not None and skip_slow:
        first = next(i for i, c in enumerate(code) if ANSWER.search(c.source))
        return [c.source for c in code[:first] if c.id in setup] + [c.source for c in code[first:]]
    return [c.source for c in code if not (skip_slow and SLOW in c.get("metadata", {}).get("tags", []))]


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
                    src = PLACEHOLDER.sub(lambda m: implementation, src)
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
    lines = printed.splitlines()
    for start in spec.get("printed", []):
        assert any(line.startswith(start) for line in lines), (start, printed[-3000:])


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
    hints = [hint for _, hint in spec["wrong"].values()]   # None: a wrong choice, told only "not right"
    assert len(crosses) == len(hints), printed[-3000:]
    for line, hint in zip(crosses, hints):
        assert (hint or "is not right") in line, line


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
