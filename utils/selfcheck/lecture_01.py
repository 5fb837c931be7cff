"""Answer key of lecture 01's "check your understanding" (``check("01.<name>", answer)``)."""

from __future__ import annotations

from collections import Counter

import numpy as np

from .. import rnn
from . import Question


def _parameter_count(D: int = 10, H: int = 20, V: int = 5) -> int:
    return sum(p.size for p in rnn.init_rnn_params(D, H, output_size=V).values())


def _many_to_one_shape(N: int = 8, T: int = 50, D: int = 300, H: int = 128, V: int = 5) -> tuple[int, ...]:
    """Run a many-to-one model on such a batch and read the shape of what comes out."""
    p = rnn.init_rnn_params(D, H, output_size=V)
    h, _ = rnn.rnn_forward(np.zeros((N, T, D)), np.zeros((N, H)), p["W_ih"], p["W_hh"], p["b_ih"], p["b_hh"])
    return rnn.linear_forward(h[:, -1], p["W_hy"], p["b_y"])[0].shape


def _bag_of_words() -> str:
    pairs = {"a": ("dog bites man", "man bites dog"), "b": ("the cat sat", "the cat sat sat")}
    return next(k for k, (s1, s2) in pairs.items() if Counter(s1.split()) != Counter(s2.split()))


def _stacked_shape(D: int = 10, H: int = 20) -> tuple[int, int]:
    p = rnn.init_rnn_params(D, H)
    return np.concatenate([p["W_hh"], p["W_ih"]], axis=1).shape


QUESTIONS = {
    "parameter_count": Question(
        "Q1 parameter count", _parameter_count,
        hint="list every array with its shape: W_ih (H, D), W_hh (H, H), b_ih, b_hh (H,), W_hy (V, H), b_y (V,).",
        mistakes={_parameter_count() - 20: "torch keeps two biases, b_ih and b_hh, each (H,).",
                  _parameter_count() - 105: "don't forget the readout W_hy (V, H) and b_y (V,)."}),
    "parameters_vs_length": Question(
        "Q2 parameters vs length", lambda: _parameter_count() / _parameter_count(),  # no shape has a T
        hint="look at the shapes in Q1's hint: does any of them mention T?",
        mistakes={10_000: "the same W is used at every step: unrolling adds steps, not weights."}),
    "many_to_one_shape": Question(
        "Q3 many-to-one output shape", _many_to_one_shape,
        hint="one answer per review, one score per class.",
        mistakes={(8, 50, 5): "that is many-to-many; many-to-one reads only the last state.",
                  (8, 128): "that is the last hidden state; the readout maps H to the 5 classes."}),
    "bag_of_words": Question(
        "Q4 bag of words", _bag_of_words,
        choices={"a": '"dog bites man" vs "man bites dog"', "b": '"the cat sat" vs "the cat sat sat"'},
        hint="write down the word counts of each sentence; a bag of words sees only those.",
        why="a bag of words keeps only the counts: (a) has the same counts in another order, "
            "(b) has a different count of 'sat'."),
    "stacked_shape": Question(
        "Q6 shape of the stacked matrix", _stacked_shape,
        hint="W = [W_hh  W_ih] side by side: how many rows has each, and how many columns together?",
        mistakes={(20, 20): "that is W_hh alone; the stack also holds W_ih's D = 10 columns.",
                  (30, 20): "transposed: W maps the (H + D)-long [h; x] to H numbers, so it is (H, H + D).",
                  (40, 30): "one tanh layer, one matrix: H rows, not 2H."}),
}
