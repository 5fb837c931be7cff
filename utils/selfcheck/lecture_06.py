"""Answer key of lecture 06's "check your understanding" (``check("06.<name>", answer)``)."""

from __future__ import annotations

import numpy as np
import torch

from ..gru import gru_step_forward, init_gru_params
from . import Question


def _params(input_size: int = 10, hidden_size: int = 20) -> int:
    return sum(p.numel() for p in torch.nn.GRU(input_size, hidden_size).parameters())


def _zero(hidden_size: int = 1) -> dict[str, np.ndarray]:
    return {k: np.zeros_like(v) for k, v in init_gru_params(1, hidden_size).items()}


def _h_when_z_is_one(prev_h: float = 0.7) -> float:
    p = _zero()
    p["b_ih"] = np.array([0.0, 50.0, 0.0])                         # blocks r, z, n: z = sigmoid(50) = 1
    return float(gru_step_forward(np.zeros((1, 1)), np.full((1, 1), prev_h), **p)[0][0, 0])


def _h_with_zero_weights(prev_h: float = 0.8) -> float:
    return float(gru_step_forward(np.zeros((1, 1)), np.full((1, 1), prev_h), **_zero())[0][0, 0])


def _same_model() -> bool:
    """One counterexample is enough: random weights on which reset before and after disagree."""
    rng = np.random.default_rng(0)
    p = init_gru_params(3, 4, rng=rng)
    x, h = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    return bool(np.allclose(gru_step_forward(x, h, **p, reset="before")[0], gru_step_forward(x, h, **p)[0]))


QUESTIONS = {
    "gru_params": Question(
        "Q1 parameters of nn.GRU(10, 20)", _params,
        hint="three blocks (r, z, n) of H rows in weight_ih (D columns) and weight_hh (H columns), and two biases.",
        mistakes={4 * 20 * 10 + 4 * 20 * 20 + 8 * 20: "that is an LSTM: a GRU has 3 blocks, not 4.",
                  3 * 20 * 10 + 3 * 20 * 20 + 3 * 20: "torch keeps two biases, bias_ih and bias_hh."}),
    "z_one": Question(
        "Q2 h_t when z = 1", _h_when_z_is_one,
        hint="in torch's convention h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}.",
        mistakes={0.0: "that would be the 'write' convention (z weighs the candidate); torch's z keeps."}),
    "zero_weights": Question(
        "Q3 h_t with all-zero weights", _h_with_zero_weights,
        hint="every pre-activation is 0: z = sigmoid(0) and n = tanh(0); then h_t = (1 - z) n + z h_{t-1}.",
        mistakes={0.8: "z is sigmoid(0) = 0.5, not 1.", 0.0: "only half of the old state is replaced."}),
    "same_model": Question(
        "Q4 reset before vs after", _same_model,
        hint="compare W (r ⊙ h) with r ⊙ (W h) when r differs between units.",
        mistakes={True: "W (r ⊙ h) and r ⊙ (W h) differ whenever r differs between units: they are two "
                        "different models, each with its own test."}),
    "update_gate_conventions": Question(
        "Q5 'z keeps' against 'z writes'", lambda: "b",
        choices={"a": "two different models: one cannot learn what the other can",
                 "b": "the same model: negate z's weights and biases and one becomes the other",
                 "c": "the same model only if the reset is applied before the matmul"},
        hint="1 - sigmoid(a) = sigmoid(-a).",
        why="1 - sigmoid(a) = sigmoid(-a), so z' = 1 - z is the same kind of gate with every weight and bias of "
            "its block negated (utils.gru.flip_update_gate): the two conventions describe the same family of "
            "models. Where the reset goes is a real difference; which way z points is not."),
}
