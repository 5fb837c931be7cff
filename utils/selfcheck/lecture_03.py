"""Answer key of lecture 03's "check your understanding" (``check("03.<name>", answer)``)."""

from __future__ import annotations

import numpy as np

from ..data import StreamBatches
from . import Question


def _batches_per_epoch(L: int = 100_001, N: int = 10, T: int = 50) -> int:
    return len(StreamBatches(np.zeros(L, dtype=np.int64), batch_size=N, seq_len=T))


def _steps_reached(t: int, k: int = 25) -> int:
    """Autograd's answer: how many inputs of a k-step chunk get a gradient from the loss at step t."""
    import torch

    gen = torch.Generator().manual_seed(0)
    cell = torch.nn.RNN(3, 4, batch_first=True)
    x = torch.randn(1, k, 3, generator=gen, requires_grad=True)
    h_carried = torch.randn(1, 1, 4, generator=gen)        # from the previous chunk, detached
    out, _ = cell(x, h_carried)
    out[:, t].sum().backward()                            # the loss at step t of the chunk
    return int((x.grad.abs().sum(-1) > 0).sum())


def _detach() -> str:
    import torch

    h = torch.tanh(torch.randn(2, 3, requires_grad=True))
    changes_values = not torch.equal(h, h.detach())
    stops_gradients = h.grad_fn is not None and h.detach().grad_fn is None
    return {(True, False): "a", (False, True): "b", (True, True): "c"}[(changes_values, stops_gradients)]


QUESTIONS = {
    "batches_per_epoch": Question(
        "Q2 batches per epoch", _batches_per_epoch,
        hint="the text becomes N streams of about L/N ids each; each batch advances every stream by T.",
        mistakes={2000: "each batch advances all N = 10 streams at once, so divide by N as well as by T.",
                  20: "each batch is T = 50 ids of every stream: 10 000 ids per stream / 50."}),
    "how_far_back": Question(
        "Q3 how far back", lambda: (_steps_reached(0), _steps_reached(24)),
        hint="a loss at step t can only reach steps t, t-1, ... back to the start of its chunk.",
        mistakes={(25, 25): "the first step of a chunk has nothing before it in the chunk: the carried state is detached.",
                  (0, 24): "count the step itself: its input x_t gets a gradient too.",
                  (1, 1): "the last step's loss reaches every earlier step of the chunk through the state."}),
    # Memory held for one update is one chunk's caches: proportional to k, independent of the text
    # length. tests/test_lecture_answers.py measures it with the lecture's `saved_bytes`.
    "memory_scaling": Question(
        "Q4 memory scaling", lambda: (2, 1),
        hint="memory holds one chunk's caches at a time; what sets the size of a chunk?",
        mistakes={(2, 2): "the chunks before the current one were freed: the text length does not matter.",
                  (1, 2): "it is the other way round: the chunk length sets the memory."}),
    "detach": Question(
        "Q5 what detach does", _detach,
        choices={"a": "the values in h", "b": "where gradients stop", "c": "both"},
        hint="compare torch.equal(h, h.detach()) and h.detach().grad_fn.",
        why="h.detach() has the same numbers and no history (grad_fn is None): the forward carries on, "
            "the backward stops there."),
    "reset_state": Question(
        "Q6 resetting the state at every chunk", lambda: "b",
        choices={"a": "it stays the same: the weights have not changed",
                 "b": "it rises: the first characters of every chunk are predicted with (almost) no context",
                 "c": "it falls: a stale state can only mislead the model"},
        hint="what does the model know about the text when it predicts the first character of a chunk?",
        why="with the state reset, each chunk starts from zeros, so its first characters are predicted as if "
            "the text began there. Section 4.4 measures it on the contiguous model."),
    "row_column_form": Question(
        "Q7 the column form of dprev_h", lambda: "b",
        choices={"a": "W_hh δa", "b": "W_hh^T δa", "c": "δa W_hh^T"},
        hint="transpose both sides of the row form δh_prev = δa W_hh (δa a row vector).",
        why="(δa W_hh)^T = W_hh^T δa^T: the row form and the column form are one product, written for rows "
            "or for columns. Slides that write W_hh^T use columns; code with a batch of rows uses da @ W_hh."),
}
