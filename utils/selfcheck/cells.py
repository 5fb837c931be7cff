"""Self-checks for a learner's RNN cell, one term at a time (lectures 01 and 03).

:func:`check_rnn_step` and :func:`check_rnn_step_backward` zero every input but one ("only the
bias", "only x_t", "only h_{t-1}") on frozen ``np.linspace`` inputs (no RNG), so a failure says
which part of the update is wrong. Like every self-check they print one line and return
``True``/``False``; they never raise on a learner's bug.

Shape legend: N batch, D input features, H hidden units.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .. import rnn

OK, BAD, TODO = "✓", "✗", "…"


def say(mark: str, name: str, msg: str = "") -> None:
    """Print one check line: a mark (✓ ✗ …), what was checked, and the message."""
    print(f"{mark} {name}" + (f": {msg}" if msg else ""))


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
            say(TODO, name, "not implemented yet: fill in the function and run the cell again")
            return False
        except Exception as exc:  # a learner's bug: report it as a hint, do not stop the notebook
            say(BAD, f"{name}, {label}", f"raised {type(exc).__name__}: {exc}")
            return False
        want = rnn.rnn_step_forward(**case)[0]
        if np.shape(got) != want.shape:
            say(BAD, f"{name}, {label}", f"next_h has shape {np.shape(got)}, expected (N, H) = {want.shape}")
            return False
        if not np.allclose(got, want, atol=1e-8):
            say(BAD, f"{name}, {label}", why)
            return False
    say(OK, name, "every term matches utils.rnn.rnn_step_forward")
    return True


_GRAD_HINTS = {
    "dx": "dx = da @ W_ih, where da = dnext_h * (1 - next_h**2) is the gradient through tanh.",
    "dprev_h": "dprev_h = da @ W_hh in the row form (rows are examples); that is the column form's "
               "W_hh^T δa, the same product written for rows.",
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
        say(TODO, name, "not implemented yet: fill in the function and run the cell again")
        return False
    except Exception as exc:
        say(BAD, name, f"raised {type(exc).__name__}: {exc}")
        return False
    if not isinstance(got, (tuple, list)) or len(got) != 6:
        say(BAD, name, "return six gradients, in the order of the forward's inputs: "
                        "dx, dprev_h, dW_ih, dW_hh, db_ih, db_hh")
        return False
    for gname, g, w in zip(_GRAD_HINTS, got, want):
        if np.shape(g) != w.shape:
            say(BAD, f"{name}, {gname}", f"shape {np.shape(g)}, expected {w.shape}. {_GRAD_HINTS[gname]}")
            return False
        if not np.allclose(g, w, atol=1e-8):
            if gname == "dprev_h" and np.allclose(g, (dnext * (1 - next_h ** 2)) @ inputs["W_hh"].T, atol=1e-8):
                say(BAD, f"{name}, {gname}", "you multiplied by W_hh.T; the forward used prev_h @ W_hh.T, "
                                              "so in the row form the backward is da @ W_hh "
                                              "(the column form's W_hh^T δa).")
            else:
                say(BAD, f"{name}, {gname}", _GRAD_HINTS[gname])
            return False
    say(OK, name, "all six gradients match utils.rnn.rnn_step_backward")
    return True
