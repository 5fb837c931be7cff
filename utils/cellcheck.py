"""Self-checks for gated cells that name the faulty gate (lectures 05 and 06; assignment 2 may reuse them).

Like ``utils.selfcheck``, nothing here raises or grades: each checker prints one line and returns
``True``/``False``. Inputs are frozen ``np.linspace`` values (no RNG). The learner's cell is tested
one gate at a time: the other gates are pinned open or shut by large biases (sigmoid(±50) is 1 or 0
to float precision), so a failure says which gate is wrong, and known slips (another paper's gate
order, the paper's GRU, z pointing the other way) are recognised by name.

* :func:`check_lstm_step`: ``step_fn(x, prev_h, prev_c, W_ih, W_hh, b_ih, b_hh) -> (next_h, next_c[, cache])``
* :func:`check_gru_step`: ``step_fn(x, prev_h, W_ih, W_hh, b_ih, b_hh) -> next_h[, cache]``

Shape legend: N batch, D input, H hidden; torch's layout (gates i, f, g, o and r, z, n).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from . import gru, lstm

OK, BAD, TODO = "✓", "✗", "…"
BIG = 50.0


def _say(mark: str, name: str, msg: str = "") -> None:
    print(f"{mark} {name}" + (f": {msg}" if msg else ""))


def _frozen(G: int, N: int = 2, D: int = 3, H: int = 4) -> dict[str, np.ndarray]:
    return {
        "x": np.linspace(-1.0, 1.0, N * D).reshape(N, D),
        "prev_h": np.linspace(0.6, -0.5, N * H).reshape(N, H),
        "W_ih": np.linspace(-0.7, 0.8, G * H * D).reshape(G * H, D),
        "W_hh": np.linspace(0.5, -0.6, G * H * H).reshape(G * H, H) + 0.2 * np.tile(np.eye(H), (G, 1)),
        "b_ih": np.linspace(-0.3, 0.4, G * H),
        "b_hh": np.linspace(0.2, -0.25, G * H),
    }


def _pin(params: dict, H: int, gate: int, value: float) -> dict:
    """Add ``value`` to the input bias of gate block ``gate`` (pins a sigmoid gate at 0 or 1)."""
    out = {k: v.copy() for k, v in params.items()}
    out["b_ih"][gate * H:(gate + 1) * H] += value
    return out


def _call(step_fn, args, name, n_out):
    try:
        out = step_fn(**{k: v.copy() for k, v in args.items()})
    except NotImplementedError:
        _say(TODO, name, "not implemented yet: fill in the function and run the cell again")
        return None
    except Exception as exc:  # a learner's bug: report it, do not stop the notebook
        _say(BAD, name, f"raised {type(exc).__name__}: {exc}")
        return None
    out = out if isinstance(out, tuple) else (out,)
    if len(out) < n_out:
        _say(BAD, name, f"return {'(next_h, next_c)' if n_out == 2 else 'next_h'}; got {len(out)} value(s)")
        return None
    return tuple(np.asarray(o) for o in out[:n_out])


def _close(a, b) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, atol=1e-8))


# --------------------------------------------------------------------------- LSTM

def _lstm_ref(args):
    h, c, _ = lstm.lstm_step_forward(**args)
    return h, c


def check_lstm_step(step_fn: Callable, name: str = "LSTM step") -> bool:
    """Check a learner's LSTM step against :func:`utils.lstm.lstm_step_forward`, one gate at a time."""
    H = 4
    base = _frozen(4, H=H)
    base["prev_c"] = np.linspace(-0.8, 0.9, base["prev_h"].size).reshape(base["prev_h"].shape)
    i, f, g, o = 0, 1, 2, 3
    cases = [
        # (label, pinned params, what must hold, hint)
        ("forget gate alone (i = 0, o = 1)", _pin(_pin(base, H, i, -BIG), H, o, BIG),
         "with the input gate shut, next_c = f * prev_c, f = sigmoid(rows H..2H of the pre-activation). "
         "Is f a sigmoid of the second block, and multiplied by prev_c (not prev_h)?"),
        ("input gate and candidate alone (f = 0, o = 1)", _pin(_pin(base, H, f, -BIG), H, o, BIG),
         "with the forget gate shut, next_c = i * g: i = sigmoid(block 0), g = tanh(block 2). "
         "g is the candidate (tanh, can be negative), i how much of it is written (sigmoid)."),
        ("output gate (f = 0, i = 1)", _pin(_pin(base, H, f, -BIG), H, i, BIG),
         "with c = g known, next_h = o * tanh(next_c), o = sigmoid(block 3): tanh of the *new* cell state."),
        ("all gates together", base,
         "each gate is right alone but not together: next_c = f * prev_c + i * g, next_h = o * tanh(next_c)."),
    ]
    for label, args, hint in cases:
        got = _call(step_fn, args, name, 2)
        if got is None:
            return False
        want = _lstm_ref(args)
        if got[0].shape != want[0].shape or got[1].shape != want[1].shape:
            _say(BAD, f"{name}, {label}", f"next_h and next_c must be (N, H) = {want[0].shape}; got "
                                          f"{got[0].shape} and {got[1].shape}")
            return False
        if _close(got[0], want[0]) and _close(got[1], want[1]):
            continue
        swapped = _lstm_ref({**args, **{k: lstm.reorder_gates(args[k], "ifgo", "ifog")
                                        for k in ("W_ih", "W_hh", "b_ih", "b_hh")}})
        if _close(got[0], swapped[0]) and _close(got[1], swapped[1]):
            _say(BAD, f"{name}, {label}", "you split the gates in the order i, f, o, g (CS231n, char-rnn); "
                                          "torch's order, used here, is i, f, g, o.")
            return False
        if _close(got[1], want[1]):
            _say(BAD, f"{name}, {label}", "next_c is right but next_h is not: next_h = o * tanh(next_c), with "
                                          "o = sigmoid(block 3).")
            return False
        _say(BAD, f"{name}, {label}", hint)
        return False
    _say(OK, name, "every gate matches utils.lstm.lstm_step_forward (torch's nn.LSTMCell)")
    return True


# --------------------------------------------------------------------------- GRU

def _gru_ref(args, reset="after", update="keep"):
    return gru.gru_step_forward(**args, reset=reset, update=update)[0]


def _matches_paper(step_fn, base, name) -> bool:
    # The paper's GRU and "b_hn outside the reset" agree when r = 0; only the full case tells them apart.
    full = _call(step_fn, base, name, 1)
    return full is not None and _close(full[0], _gru_ref(base, reset="before"))


def check_gru_step(step_fn: Callable, name: str = "GRU step") -> bool:
    """Check a learner's GRU step against torch's convention (:func:`utils.gru.gru_step_forward`)."""
    H = 4
    base = _frozen(3, H=H)
    r, z = 0, 1
    cases = [
        ("update gate shut (z = 1: keep the old state)", _pin(base, H, z, BIG),
         "with z = 1, torch's GRU keeps the old state: next_h = (1 - z) * n + z * prev_h = prev_h."),
        ("update gate open, reset open (z = 0, r = 1)", _pin(_pin(base, H, z, -BIG), H, r, BIG),
         "with z = 0 and r = 1, next_h = n = tanh(W_in x + b_in + W_hn prev_h + b_hn): the candidate "
         "uses block 2 (n) of both weights and both biases."),
        ("reset gate closed (z = 0, r = 0)", _pin(_pin(base, H, z, -BIG), H, r, -BIG),
         "with r = 0, torch's candidate is n = tanh(W_in x + b_in): r multiplies (W_hn h + b_hn), so b_hn goes too."),
        ("all gates together", base,
         "each gate is right alone but not together: r and z both read x and prev_h (blocks 0 and 1)."),
    ]
    for label, args, hint in cases:
        got = _call(step_fn, args, name, 1)
        if got is None:
            return False
        got, want = got[0], _gru_ref(args)
        if got.shape != want.shape:
            _say(BAD, f"{name}, {label}", f"next_h must be (N, H) = {want.shape}; got {got.shape}")
            return False
        if _close(got, want):
            continue
        if _close(got, _gru_ref(args, update="write")):
            _say(BAD, f"{name}, {label}", "your z weighs the candidate, next_h = z * n + (1 - z) * prev_h; in "
                                          "torch's convention z keeps the old state: (1 - z) * n + z * prev_h.")
        elif _close(got, _gru_ref(args, reset="before")) and _matches_paper(step_fn, base, name):
            _say(BAD, f"{name}, {label}", "that is the paper's GRU (Cho et al. 2014): the reset before the matmul, "
                                          "W_hn (r * h). Torch applies it after: r * (W_hn h + b_hn).")
        else:
            _say(BAD, f"{name}, {label}", hint)
        return False
    _say(OK, name, "every gate matches utils.gru.gru_step_forward (torch's nn.GRUCell)")
    return True
