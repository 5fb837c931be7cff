"""Self-check cells for "check your understanding": a clear ✓, or a hint that names the wrong term.

Nothing here is graded and nothing raises: every checker prints one line per check and returns
``True``/``False``, so a notebook with unanswered questions still runs top to bottom.

* :func:`check_answer` compares a value (number, tuple, array, string) with the expected one;
  known wrong answers map to their own hints.
* :func:`check_rnn_step` and :func:`check_rnn_step_backward` test a learner's cell one term at a
  time (zero every input but one: "only the bias", "only x_t", "only h_{t-1}"), on frozen
  ``np.linspace`` inputs, so a failure says which part of the update is wrong.

Shape legend: N batch, D input features, H hidden units.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from . import rnn

OK, BAD, TODO = "✓", "✗", "…"


def _say(mark: str, name: str, msg: str = "") -> None:
    print(f"{mark} {name}" + (f": {msg}" if msg else ""))


def _unanswered(answer) -> bool:
    return answer is Ellipsis or answer is None


def _same(a, b, atol: float) -> bool:
    if isinstance(b, str):
        return isinstance(a, str) and a.strip().lower() == b.strip().lower()
    try:
        a_arr, b_arr = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        return a == b
    return a_arr.shape == b_arr.shape and bool(np.allclose(a_arr, b_arr, atol=atol, rtol=0))


def check_answer(answer: Any, expected: Any, name: str, hint: str = "",
                 wrong: Mapping[Any, str] | None = None, atol: float = 1e-6) -> bool:
    """Print ✓ if ``answer`` equals ``expected`` (numbers to ``atol``; tuples and arrays elementwise).

    Args:
        answer: the learner's value; ``...`` or ``None`` means "not answered yet".
        expected: the right value (computed by code in the notebook, not typed in).
        name: what is being checked, shown on the line.
        hint: shown on a wrong answer.
        wrong: known wrong answers -> a hint for that mistake (checked before ``hint``).
    """
    if _unanswered(answer):
        _say(TODO, name, "not answered yet: replace ... with your answer and run the cell again")
        return False
    if _same(answer, expected, atol):
        _say(OK, name)
        return True
    for value, why in (wrong or {}).items():
        if _same(answer, value, atol):
            _say(BAD, name, f"{answer!r} is not right. Hint: {why}")
            return False
    _say(BAD, name, f"{answer!r} is not right." + (f" Hint: {hint}" if hint else ""))
    return False


# --------------------------------------------------------------------------- the RNN cell, term by term

def _frozen(N: int = 2, D: int = 3, H: int = 4) -> dict[str, np.ndarray]:
    """Deterministic, non-symmetric inputs (no RNG), so a transposed weight gives a different answer."""
    return {
        "x": np.linspace(-1.0, 1.0, N * D).reshape(N, D),
        "prev_h": np.linspace(0.5, -0.4, N * H).reshape(N, H),
        "W_ih": np.linspace(-0.6, 0.7, H * D).reshape(H, D),
        "W_hh": np.linspace(0.4, -0.5, H * H).reshape(H, H) + 0.3 * np.eye(H),
        "b_ih": np.linspace(-0.2, 0.3, H),
        "b_hh": np.linspace(0.1, -0.25, H),
    }


_TERMS = [
    ("only the biases (x = 0, h_prev = 0)", ("b_ih", "b_hh"),
     "with x and h_prev zero, next_h must be tanh(b_ih + b_hh): are both biases added, inside the tanh?"),
    ("only x_t (h_prev = 0, biases = 0)", ("x", "W_ih"),
     "the input term is x @ W_ih.T, shape (N, D) @ (D, H) -> (N, H). Transposed? Wrong weight?"),
    ("only h_{t-1} (x = 0, biases = 0)", ("prev_h", "W_hh"),
     "the recurrent term is prev_h @ W_hh.T, with W_hh (H, H): check the transpose and that you use prev_h."),
    ("all terms together", ("x", "prev_h", "W_ih", "W_hh", "b_ih", "b_hh"),
     "each term is right alone but not together: is tanh applied once, to the *sum* of all the terms?"),
]


def _only(inputs: dict[str, np.ndarray], keep: tuple[str, ...]) -> dict[str, np.ndarray]:
    return {k: (v if k in keep or k.startswith("W_") else np.zeros_like(v)) for k, v in inputs.items()}


def _first(out):
    return out[0] if isinstance(out, tuple) else out


def check_rnn_step(step_fn: Callable, name: str = "RNN step") -> bool:
    """Check a learner's ``step_fn(x, prev_h, W_ih, W_hh, b_ih, b_hh) -> next_h`` (or ``(next_h, cache)``).

    The cell is tested one term at a time against :func:`utils.rnn.rnn_step_forward`.
    """
    inputs = _frozen()
    for label, keep, why in _TERMS:
        case = _only(inputs, keep)
        try:
            got = _first(step_fn(**{k: v.copy() for k, v in case.items()}))
        except NotImplementedError:
            _say(TODO, name, "not implemented yet: fill in the function and run the cell again")
            return False
        except Exception as exc:  # a learner's bug: report it as a hint, do not stop the notebook
            _say(BAD, f"{name}, {label}", f"raised {type(exc).__name__}: {exc}")
            return False
        want = rnn.rnn_step_forward(**case)[0]
        if np.shape(got) != want.shape:
            _say(BAD, f"{name}, {label}", f"next_h has shape {np.shape(got)}, expected (N, H) = {want.shape}")
            return False
        if not np.allclose(got, want, atol=1e-8):
            _say(BAD, f"{name}, {label}", why)
            return False
    _say(OK, name, "every term matches utils.rnn.rnn_step_forward")
    return True


_GRAD_HINTS = {
    "dx": "dx = da @ W_ih, where da = dnext_h * (1 - next_h**2) is the gradient through tanh.",
    "dprev_h": "dprev_h = da @ W_hh: the gradient goes back through W_hh (not its transpose, here).",
    "dW_ih": "dW_ih = da.T @ x: shape (H, N) @ (N, D) = (H, D), summed over the batch.",
    "dW_hh": "dW_hh = da.T @ prev_h: it multiplies the *previous* state, not next_h.",
    "db_ih": "db_ih = da.sum(axis=0): a bias gets the gradient summed over the batch.",
    "db_hh": "db_hh = da.sum(axis=0), the same as db_ih: both biases enter the same sum.",
}


def check_rnn_step_backward(backward_fn: Callable, name: str = "RNN step backward") -> bool:
    """Check a learner's ``backward_fn(dnext_h, cache) -> (dx, dprev_h, dW_ih, dW_hh, db_ih, db_hh)``.

    The cache is the one :func:`utils.rnn.rnn_step_forward` returns. The first wrong gradient is named,
    with the formula it should follow.
    """
    inputs = _frozen()
    next_h, cache = rnn.rnn_step_forward(**inputs)
    dnext = np.linspace(1.0, -1.0, next_h.size).reshape(next_h.shape)
    want = rnn.rnn_step_backward(dnext, cache)
    try:
        got = backward_fn(dnext.copy(), cache)
    except NotImplementedError:
        _say(TODO, name, "not implemented yet: fill in the function and run the cell again")
        return False
    except Exception as exc:
        _say(BAD, name, f"raised {type(exc).__name__}: {exc}")
        return False
    if not isinstance(got, (tuple, list)) or len(got) != 6:
        _say(BAD, name, "return six gradients, in the order of the forward's inputs: "
                        "dx, dprev_h, dW_ih, dW_hh, db_ih, db_hh")
        return False
    for gname, g, w in zip(_GRAD_HINTS, got, want):
        if np.shape(g) != w.shape:
            _say(BAD, f"{name}, {gname}", f"shape {np.shape(g)}, expected {w.shape}. {_GRAD_HINTS[gname]}")
            return False
        if not np.allclose(g, w, atol=1e-8):
            if gname == "dprev_h" and np.allclose(g, (dnext * (1 - next_h ** 2)) @ inputs["W_hh"].T, atol=1e-8):
                _say(BAD, f"{name}, {gname}", "you multiplied by W_hh.T; the forward used prev_h @ W_hh.T, "
                                              "so the backward is da @ W_hh.")
            else:
                _say(BAD, f"{name}, {gname}", _GRAD_HINTS[gname])
            return False
    _say(OK, name, "all six gradients match utils.rnn.rnn_step_backward")
    return True
