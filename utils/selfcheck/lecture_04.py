"""Answer key of lecture 04's "check your understanding" (``check("04.<name>", answer)``)."""

from __future__ import annotations

import numpy as np

from ..clip import clip_by_global_norm, clip_by_global_norm_squared_slip, clip_by_value, cosine_similarity, global_norm
from ..gradients import gradient_norms_through_time, recurrent_matrix
from . import Question

G = [np.array([30.0, 40.0])]  # a gradient of norm 50


def _slip_onset(threshold: float = 0.25) -> str:
    """Does the squared slip start clipping at a smaller, equal or larger ||g|| than Algorithm 1?"""
    norms = np.linspace(0.01, 2.0, 2000)
    starts = [next(n for n in norms if global_norm(f([np.array([n])], threshold)[0]) < n - 1e-12)
              for f in (clip_by_global_norm, clip_by_global_norm_squared_slip)]
    return "a" if starts[1] < starts[0] - 0.01 else "c" if starts[1] > starts[0] + 0.01 else "b"


QUESTIONS = {
    "linear_20_steps": Question(
        "Q1 linear RNN, 20 steps back",
        lambda: float(gradient_norms_through_time(recurrent_matrix(8, 0.9, kind="orthogonal"), 20, "linear")[0]),
        hint="one factor of W_hh per step back, and each factor scales the norm by 0.9.",
        mistakes={0.9 * 20: "the factors multiply, they do not add.", 0.9 ** 19: "count again: 20 steps, 20 factors."}),
    "clip_norm": Question(
        "Q2 norm after clipping by norm", lambda: round(global_norm(clip_by_global_norm(G, 5.0)[0]), 6),  # eps: 5 - 1e-7
        hint="above the threshold, the gradient is rescaled to length exactly `threshold`.",
        mistakes={0.1: "0.1 is the scale factor threshold/‖g‖; the question asks for the new norm.",
                  50.0: "50 > 5, so it is clipped."}),
    "squared_slip": Question(
        "Q3 norm after the squared slip", lambda: round(global_norm(clip_by_global_norm_squared_slip(G, 5.0)[0]), 9),
        hint="the slip multiplies by threshold / ‖g‖², so the length becomes threshold / ‖g‖.",
        mistakes={5.0: "that is the correct algorithm; the slip divides by ‖g‖² = 2500, not ‖g‖ = 50.",
                  0.002: "that is the scale factor threshold / ‖g‖²; multiply it by ‖g‖ = 50 for the new norm."}),
    "slip_onset": Question(
        "Q4 where the slip starts clipping", _slip_onset,
        choices={"a": "at a smaller ‖g‖ than Algorithm 1", "b": "at the same ‖g‖", "c": "at a larger ‖g‖"},
        hint="Algorithm 1 clips when ‖g‖ > threshold, the slip when ‖g‖² > threshold. Try threshold = 0.25.",
        why="the slip clips once ‖g‖ > √threshold, and √0.25 = 0.5 > 0.25: below a threshold of 1 it clips "
            "later than Algorithm 1 (at 1, at the same point; above 1, earlier)."),
    "cosine_by_value": Question(
        "Q5 cosine after clipping by value",
        lambda: cosine_similarity([np.array([3.0, 0.5])], clip_by_value([np.array([3.0, 0.5])], 1.0)),
        hint="clip each entry to [-1, 1] first: (1, 0.5); then cos = g·v / (‖g‖ ‖v‖).",
        mistakes={1.0: "that is clipping by norm, which keeps the direction; by value clamps each entry."}),
    "one_step_bound": Question(
        "Q6 largest one-step factor", lambda: 0.8 * 1.0,  # sigma_max * max|tanh'|, tanh'(0) = 1
        hint="‖diag(tanh'(a)) W_hh‖ ≤ max|tanh'| · σ_max(W_hh), and max|tanh'| = 1 (at a = 0).",
        mistakes={0.8 ** 2: "one step is one factor.",
                  0.25 * 0.8: "0.25 is the bound of the *sigmoid*'s derivative; tanh' reaches 1."}),
    "relu_vanishing": Question(
        "Q7 why the ReLU RNN vanished", lambda: "b",
        choices={"a": "ReLU saturates for large inputs, like tanh",
                 "b": "a unit with a ≤ 0 has ReLU'(a) = 0 and zeroes its part of the gradient at that step",
                 "c": "a spectral radius of 1.2 is below one"},
        hint="write the step Jacobian diag(f'(a_t)) W_hh for f = ReLU: what is f'(a) for a < 0?",
        why="the Jacobian is diag(1[a_t > 0]) W_hh: only the active units pass the gradient, so it is W_hh "
            "restricted to them. With zero-mean inputs only about 40% of the units are active at a step "
            "(section 4's table), and the product shrinks unless ρ is large enough to make up for it."),
    "lstm_guarantee": Question(
        "Q8 does the LSTM's cell path guarantee long memory?", lambda: "b",
        choices={"a": "yes: ∂c_t/∂c_{t-1} = diag(f_t) cannot vanish",
                 "b": "no: diag(f_t) is the cell path only, and f_t < 1 still shrinks it; the network has to learn "
                      "to keep f_t near 1",
                 "c": "no: the cell path explodes instead"},
        hint="what is diag(f_t) multiplied over 100 steps if every f_t = 0.9?",
        why=f"0.9^100 = {0.9 ** 100:.1e}: the cell path vanishes as surely as W_hh^n if the forget gate is not "
            "held near 1, and the gates depend on h_{t-1}, which adds other paths. The LSTM makes long memory "
            "easy to learn; it does not guarantee it."),
}
