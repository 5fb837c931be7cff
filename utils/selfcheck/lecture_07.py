"""Answer key of lecture 07's "check your understanding" (``check("07.<name>", answer)``)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from ..classify import balanced_accuracy
from . import Question

CONFUSION = np.array([[90, 10], [8, 2]])  # Q4's two-class confusion matrix, rows: true class


@lru_cache(maxsize=1)
def _lstm_shapes():
    """nn.LSTM(10, 20, num_layers=2, bidirectional=True, batch_first=True) on a (3, 7, 10) batch."""
    m = torch.nn.LSTM(10, 20, num_layers=2, bidirectional=True, batch_first=True)
    with torch.no_grad():
        out, (h_n, _) = m(torch.zeros(3, 7, 10))
    return {"output_width": out.shape[-1], "h_n_rows": h_n.shape[0], "layer1_input": m.weight_ih_l1.shape[1]}


QUESTIONS = {
    "output_width": Question(
        "Q1 output's last axis", lambda: _lstm_shapes()["output_width"],
        hint="the top layer's two directions are concatenated at each step.",
        mistakes={20: "that is one direction; bidirectional concatenates both.",
                  80: "the gates (4H) are internal.", 10: "10 is the input size D."}),
    "h_n_rows": Question(
        "Q2 h_n's first axis", lambda: _lstm_shapes()["h_n_rows"],
        hint="one final state per layer and per direction.",
        mistakes={2: "that counts layers or directions, not both.",
                  3: "3 is the batch, h_n's second axis."}),
    "layer1_input": Question(
        "Q3 inputs of layer 1", lambda: _lstm_shapes()["layer1_input"],
        hint="layer 1 reads layer 0's outputs at each step.",
        mistakes={10: "only layer 0 reads the input x.",
                  20: "layer 0 is bidirectional, so its outputs are 2H wide."}),
    "balanced": Question(
        "Q4 balanced accuracy", lambda: balanced_accuracy(CONFUSION),
        hint="the mean of the per-class recalls (each row's diagonal entry over the row's total).",
        mistakes={0.84: "that is the accuracy; average the per-class recalls instead.",
                  (90 / 98 + 2 / 12) / 2: "that averages the precisions (columns); recall reads the rows, "
                                          "which hold the true classes."}),
    "bidirectional_lm": Question(
        "Q5 a bidirectional language model", lambda: "b",
        choices={"a": "it reaches a lower test loss because it sees more context, so it is the better model",
                 "b": "its backward direction has read the character it is asked to predict, so its loss "
                      "measures copying, and it cannot generate text left to right",
                 "c": "it cannot be trained: the two directions' gradients cancel"},
        hint="at step t, what has the right-to-left direction already read?",
        why="the right-to-left state at step t has read x_{t+1}, the very target of step t: the low loss is a "
            "leak, not better modelling, and at generation time the future it relies on does not exist yet. "
            "Encoders and classifiers, which see the whole input before answering, can be bidirectional."),
}
