"""Answer key of lecture 10's "check your understanding" (``check("10.<name>", answer, ...)``)."""

from __future__ import annotations

import numpy as np

from ..captions import WIDTH, ConvEncoder
from . import Question


def _last_place_baseline(stories) -> float:
    """The fraction of ``stories`` answered right by naming the last place the story mentions."""
    return float(np.mean([s.sentences[-1].rstrip(".").split()[-1] == s.answer for s in stories]))


QUESTIONS = {
    "attended_positions": Question(
        "Q1 attended positions", lambda: ConvEncoder(width=WIDTH).positions,
        hint=f"8-pixel windows every 2 columns over a {WIDTH}-column strip: how many fit?",
        mistakes={WIDTH // 2: "a window must fit inside the strip: the last one starts at column 40.",
                  WIDTH: "the windows step 2 columns at a time.",
                  WIDTH // 8: "the windows overlap: they start every 2 columns, not every 8."}),
    "last_place_baseline": Question(
        "Q2 last-place baseline", _last_place_baseline, context=("stories",), atol=1e-3,
        hint="for each story, compare the last word of its last sentence with the answer, and average."),
    "six_digits": Question(
        "Q3 six digits, five words", lambda: "b",
        choices={"a": "the CNN cannot see the sixth digit: the strip is too wide for it",
                 "b": "every training caption had 3 to 5 words: the decoder learned to end by the fifth, and "
                      "nothing ever rewarded a sixth word",
                 "c": "attention can only attend to five positions"},
        hint="what did the training captions never contain?",
        why="six digits fit the same 48-column canvas, and the attention finds the last digit; but the decoder "
            "learned from its data that a caption has at most five words, and writes </s> after the fifth. "
            "What the training data never shows, a model does not learn."),
}
