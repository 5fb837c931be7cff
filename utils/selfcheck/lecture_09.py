"""Answer key of lecture 09's "check your understanding" (``check("09.<name>", answer)``)."""

from __future__ import annotations

import torch

from ..attention import Attention, masked_softmax
from . import Question

SCORES = (1.0, 2.0, 3.0)  # Q1: the third position is padded


def _masked_weight() -> float:
    return masked_softmax(torch.tensor([SCORES]), torch.tensor([[True, True, False]]))[0, 1].item()


def _additive_params(query_size: int = 64, key_size: int = 64, attention_size: int = 32) -> int:
    return sum(p.numel() for p in Attention(query_size, key_size, "additive", attention_size=attention_size).parameters())


def _weights_computed(T: int = 11, S: int = 20) -> int:
    with torch.no_grad():
        return Attention(8, 8, "dot")(torch.zeros(1, T, 8), torch.zeros(1, S, 8))[1].numel()   # (N, T, S)


QUESTIONS = {
    "masked_weight": Question(
        "Q1 weight of position 2", _masked_weight,
        hint="the padded score becomes -inf before the softmax: the softmax runs over the unpadded scores only.",
        mistakes={torch.softmax(torch.tensor(SCORES), 0)[1].item(): "the padded position must not take part in the softmax.",
                  0.5: "the weights are a softmax of the scores, not equal shares of the unpadded positions."}),
    "additive_params": Question(
        "Q2 additive attention parameters", _additive_params,
        hint="W_q is (A, H_q), W_k is (A, H_k) and v is (A,).",
        mistakes={2 * 32 * 64: "do not forget v.", 64 * 64: "that is the general score's W."}),
    "weights_count": Question(
        "Q3 attention weights", _weights_computed,
        hint="one weight per (output step, source position) pair.",
        mistakes={31: "the weights form a table: multiply, do not add.",
                  20: "that is one output step's weights; the decoder attends afresh at each of its 11 steps."}),
    "bottleneck": Question(
        "Q4 what attention changes on long inputs", lambda: "b",
        choices={"a": "it adds parameters, so the model can memorise more of the training sources",
                 "b": "without it everything must pass through the encoder's final state, and the gradient from "
                      "the output back to an early source character crosses every encoder step in between; with "
                      "it every encoder state is one step from every output",
                 "c": "it makes the softmax over a longer source flatter"},
        hint="look at section 5's gradient plot: how much gradient reaches the first source position, with and "
             "without attention?",
        why="the longer the source, the longer the path from its first characters to the output. Without "
            "attention it runs through the final encoder state (the bottleneck) and through every later encoder "
            "step (lecture 04's long product of Jacobians). Attention gives each output step a direct, one-step "
            "path to every source position: in section 5 the first position's gradient is close to the last one's "
            "with attention, and hundreds of thousands of times smaller without."),
}
