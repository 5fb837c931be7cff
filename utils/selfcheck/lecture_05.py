"""Answer key of lecture 05's "check your understanding" (``check("05.<name>", answer)``)."""

from __future__ import annotations

import numpy as np
import torch

from ..lstm import lstm_step_forward
from . import Question

H = 5  # Q4's hidden size


def _rows_of_weight_ih(input_size: int = 7, hidden_size: int = 3) -> int:
    return torch.nn.LSTM(input_size, hidden_size).weight_ih_l0.shape[0]


def _cell_with_zero_weights(prev_c: float = 2.0) -> float:
    zeros = dict(W_ih=np.zeros((4, 1)), W_hh=np.zeros((4, 1)), b_ih=np.zeros(4), b_hh=np.zeros(4))
    _, next_c, _ = lstm_step_forward(np.zeros((1, 1)), np.zeros((1, 1)), np.full((1, 1), prev_c), **zeros)
    return float(next_c[0, 0])


def _rows_of_candidate() -> tuple[int, int]:
    """Mark the candidate's rows of weight_ih and find them again: feed x = 1 with only one block of
    W_ih non-zero and see which block moves g (= tanh of its pre-activation) in torch's LSTMCell."""
    cell = torch.nn.LSTMCell(1, H, bias=False).double()
    for start in range(0, 4 * H, H):
        with torch.no_grad():
            cell.weight_ih.zero_(); cell.weight_hh.zero_()
            cell.weight_ih[start:start + H] = 10.0                  # one block saturates
            # i = f = o = 0.5 unless marked; with prev_c = 0: c = i * g, and g moves only if its block is marked
            _, c = cell(torch.ones(1, 1, dtype=torch.float64))
        if torch.allclose(c, torch.full_like(c, 0.5 * np.tanh(10.0))):
            return start, start + H
    raise AssertionError("no block of weight_ih is the candidate")


QUESTIONS = {
    "gate_rows": Question(
        "Q1 rows of weight_ih", _rows_of_weight_ih,
        hint="four gates, each with H rows, stacked: (4H, D).",
        mistakes={3: "that is H; torch stacks the four gates' weights in one matrix.",
                  7: "7 is D, the number of columns."}),
    "cell_path_decay": Question(
        "Q2 cell-path factor over 10 steps", lambda: 0.9 ** 10,      # d c_t / d c_{t-1} = diag(f) per step
        hint="each step back multiplies by diag(f).",
        mistakes={0.9 * 10: "the factors multiply, they do not add.",
                  0.9: "that is one step; there are ten."}),
    "cell_zero_weights": Question(
        "Q3 c_t with all-zero weights", _cell_with_zero_weights,
        hint="every pre-activation is 0: what are sigmoid(0) and tanh(0)?",
        mistakes={2.0: "the forget gate is sigmoid(0) = 0.5, not 1.",
                  0.0: "g = tanh(0) = 0, but f * c_{t-1} is not 0.",
                  1.5: "i * g is 0.5 * tanh(0) = 0: the candidate g, not the gate i, is what gets written."}),
    "candidate_rows": Question(
        "Q4 rows of the candidate g", _rows_of_candidate,
        hint="torch orders the blocks i, f, g, o: which block is g, and where do its H rows start?",
        mistakes={(15, 20): "that is o; torch's order is i, f, g, o (not i, f, o, g).",
                  (5, 10): "that is the forget gate.",
                  (0, 5): "that is the input gate i (how much to write), not the candidate g (what to write)."}),
    "forget_forever": Question(
        "Q5 which gates keep a memory forever", lambda: "c",
        choices={"a": "i = 1 and f = 0", "b": "o = 1", "c": "f = 1 and i = 0", "d": "i = f = o = 1/2"},
        hint="write c_t = f ⊙ c_{t-1} + i ⊙ g with your gate values: when is c_t = c_{t-1} whatever g is?",
        why="f = 1 copies c_{t-1} and i = 0 writes nothing, so c_t = c_{t-1} at every step and ∂c_t/∂c_{t-1} = 1 "
            "along the cell path. The output gate only decides how much of the memory is shown in h_t."),
}
