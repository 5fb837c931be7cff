"""Self-check cells for "check your understanding": a clear ✓, or a hint that names the mistake.

Nothing here is graded and nothing raises on a wrong answer: every checker prints one line and
returns ``True``/``False``, so a notebook with unanswered questions still runs top to bottom.

* :func:`check` ``(key, answer, **context)``: the lecture questions. The expected answers, the
  hints and the known mistakes live in this package, keyed by question (``"02.add_delta"`` is
  in :mod:`utils.selfcheck.lecture_02`), so the cell that checks an answer does not show it.
  ``context`` passes what a question is about (``vocab=vocab``), never the answer.
* :func:`check_answer` ``(answer, expected, name, ...)``: the same verdicts with the expected value
  given in the call (for quick checks, and the path lectures 05+ used before their keys existed).
* :func:`check_rnn_step`, :func:`check_rnn_step_backward` (from :mod:`.cells`): test a learner's
  cell one term at a time, so a failure says which part of the update is wrong.

Numbers: a right answer rounded to 3 significant digits is accepted (``10/36`` as ``0.278``); one
that agrees to only 2 digits gets "close: give more digits"; integers (counts, shapes,
indices) must be exact. Known mistakes are recognised with the same rounding.

Adding questions for lecture NN: create ``lecture_NN.py`` with ``QUESTIONS = {"name": Question(...)}``;
the key ``"NN.name"`` then works with :func:`check` (and ``tests/test_selfcheck.py`` checks every
registered question against its own answer).
"""

from __future__ import annotations

import importlib
import math
import textwrap
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from .cells import BAD, OK, TODO, check_rnn_step, check_rnn_step_backward, say

__all__ = ["check", "check_answer", "check_rnn_step", "check_rnn_step_backward", "Question", "question",
           "questions"]

SIGNIFICANT_DIGITS = 3  # a rounded answer with at least this many right digits is accepted


# --------------------------------------------------------------------------- the questions

@dataclass(frozen=True)
class Question:
    """One "check your understanding" question: how to compute its answer, and what to say.

    Args:
        name: shown on the check's line, e.g. ``"Q3 add-δ probability"``.
        answer: ``answer(**context) -> expected value`` (computed, never typed into the notebook).
        hint: shown on a wrong answer that is not a known mistake.
        mistakes: known wrong answers -> the hint for that mistake; or ``mistakes(**context)``
            returning such a mapping.
        choices: for a multiple-choice question, letter -> the option's text; an answer outside
            them is told which letters are allowed.
        why: shown after a right answer (the reasoning, for conceptual questions).
        context: names of the keyword arguments :func:`check` must be given.
        atol: absolute tolerance for "exactly right" (on top of a relative 1e-9).
    """

    name: str
    answer: Callable[..., Any]
    hint: str = ""
    mistakes: Mapping[Any, str] | Callable[..., Mapping[Any, str]] = ()
    choices: Mapping[str, str] | None = None
    why: str = ""
    context: tuple[str, ...] = ()
    atol: float = 0.0

    def expected(self, **context) -> Any:
        return self.answer(**context)

    def known_mistakes(self, **context) -> Mapping[Any, str]:
        return dict(self.mistakes(**context) if callable(self.mistakes) else self.mistakes)


def questions(lecture: str) -> dict[str, Question]:
    """The questions of one lecture (``"02"``), by name."""
    if not (isinstance(lecture, str) and lecture.isdigit() and len(lecture) == 2):
        raise ValueError(f"lecture must be two digits such as '02', got {lecture!r}")
    try:
        module = importlib.import_module(f"{__name__}.lecture_{lecture}")
    except ModuleNotFoundError:
        raise KeyError(f"no self-check questions for lecture {lecture} (no utils/selfcheck/lecture_{lecture}.py)") from None
    return dict(module.QUESTIONS)


def question(key: str) -> Question:
    """The question registered under ``key`` (``"02.add_delta"``); raises naming the known keys."""
    lecture, _, name = str(key).partition(".")
    bank = questions(lecture)
    if name not in bank:
        raise KeyError(f"no question {key!r}; lecture {lecture} has: {', '.join(f'{lecture}.{n}' for n in bank)}")
    return bank[name]


def check(key: str, answer: Any, **context) -> bool:
    """Check ``answer`` to the lecture question ``key``; print ✓ or a hint. Returns whether it is right.

    Args:
        key: ``"NN.name"``, e.g. ``"02.add_delta"``.
        answer: the learner's value; ``...`` or ``None`` means "not answered yet".
        **context: what the question is about (its ``Question.context`` names them).
    """
    q = question(key)
    missing = [name for name in q.context if name not in context]
    if missing:
        raise TypeError(f"check({key!r}, ...) needs {', '.join(f'{m}=...' for m in missing)} "
                        f"(what the question is about), as in the lecture's cell")
    if q.choices is not None and not _unanswered(answer):
        letter = _as_choice(answer)
        if letter not in q.choices:
            say(BAD, q.name, f"{answer!r} is not one of the options: answer with "
                             + " or ".join(repr(c) for c in q.choices))
            return False
        answer = letter
    right = _verdict(answer, q.expected(**context), q.name, q.hint, q.known_mistakes(**context), q.atol)
    if right and q.why:
        print(textwrap.fill(q.why, width=100, initial_indent="  why: ", subsequent_indent="       "))
    return right


def check_answer(answer: Any, expected: Any, name: str, hint: str = "",
                 wrong: Mapping[Any, str] | None = None, atol: float = 1e-6) -> bool:
    """Print ✓ if ``answer`` equals ``expected`` (see the module docstring for rounding).

    Args:
        answer: the learner's value; ``...`` or ``None`` means "not answered yet".
        expected: the right value (computed by code, not typed in).
        name: what is being checked, shown on the line.
        hint: shown on a wrong answer.
        wrong: known wrong answers -> a hint for that mistake (checked before ``hint``).
        atol: absolute tolerance for "exactly right".

    Prefer :func:`check` with a registered question: it keeps ``expected`` out of the cell.
    """
    return _verdict(answer, expected, name, hint, wrong or {}, atol)


# --------------------------------------------------------------------------- verdicts

def _verdict(answer, expected, name: str, hint: str, wrong: Mapping[Any, str], atol: float) -> bool:
    if _unanswered(answer):
        say(TODO, name, "not answered yet: replace ... with your answer and run the cell again")
        return False
    match = _match(answer, expected, atol)
    if match == "exact":
        say(OK, name)
        return True
    if match == "rounded":
        say(OK, name, f"right to {SIGNIFICANT_DIGITS} significant digits (more precisely {_show(expected)})")
        return True
    for value, why in wrong.items():
        if _match(answer, value, atol) in ("exact", "rounded"):
            say(BAD, name, f"{answer!r} is not right. Hint: {why}")
            return False
    if match == "close":
        say(BAD, name, f"{answer!r} is close but agrees to fewer than {SIGNIFICANT_DIGITS} significant digits: "
                       f"round (do not cut) to {SIGNIFICANT_DIGITS} or more, or let Python compute it")
        return False
    say(BAD, name, f"{answer!r} is not right." + (f" Hint: {hint}" if hint else ""))
    return False


def _unanswered(answer) -> bool:
    return answer is Ellipsis or answer is None


def _as_choice(answer) -> str | None:
    if not isinstance(answer, str):
        return None
    return answer.strip().strip("().").strip().lower()


def _match(answer, expected, atol: float) -> str | None:
    """"exact" (to atol or 1e-9 relative), "rounded" (>= 3 significant digits), "close" (2) or None."""
    if isinstance(expected, str):
        return "exact" if isinstance(answer, str) and _as_choice(answer) == _as_choice(expected) else None
    if isinstance(answer, str):
        return None
    try:
        a = np.asarray(answer, dtype=float)
        e = np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        return "exact" if answer == expected else None
    if a.shape != e.shape or not np.all(np.isfinite(a)):
        return None
    if np.allclose(a, e, atol=atol, rtol=1e-9):
        return "exact"
    if np.all(e == np.round(e)):
        return None  # counts, shapes, indices: no rounding
    for digits, verdict in ((SIGNIFICANT_DIGITS, "rounded"), (SIGNIFICANT_DIGITS - 1, "close")):
        if all(_agrees(x, y, digits) for x, y in zip(a.ravel(), e.ravel())):
            return verdict
    return None


def _agrees(x: float, y: float, digits: int) -> bool:
    """|x - y| is within half a unit of y's ``digits``-th significant digit."""
    if y == 0:
        return x == 0
    unit = 10.0 ** (math.floor(math.log10(abs(y))) - digits + 1)
    return abs(x - y) <= 0.5 * unit * (1 + 1e-9)


def _show(value) -> str:
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        return f"{float(arr):.6g}"
    return "(" + ", ".join(f"{v:.6g}" for v in arr.ravel()) + ")"
