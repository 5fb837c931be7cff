"""Answer key of lecture 02's "check your understanding" (``check("02.<name>", answer, ...)``)."""

from __future__ import annotations

import math

import numpy as np

from ..charlm import softmax
from ..ngram import NGramLM
from . import Question

HELLO = ["h", "e", "l", "o"]  # the lecture's vocabulary for "hello", in its own order


def _add_delta(count: int = 9, total: int = 9, delta: float = 1.0, V: int = 27) -> float:
    return (count + delta) / (total + delta * V)


def _bigram_after_l() -> str:
    """Fit a maximum-likelihood bigram on "hello" and read its prediction after "l"."""
    ids = np.array([HELLO.index(c) for c in "hello"])
    p = NGramLM(order=2, vocab_size=4, delta=0.0).fit(ids).prob([HELLO.index("l")])
    options = {"a": [0, 0, 1, 0], "b": [0, 0, 0, 1], "c": [0, 0, 0.5, 0.5], "d": [0.25] * 4}
    return next(k for k, v in options.items() if np.allclose(p, v))


def _tau(scores=(2.0, 1.0, 0.0), tau: float = 0.5) -> float:
    return float(softmax(np.array(scores) / tau)[0])


QUESTIONS = {
    "uniform_perplexity": Question(
        "Q1 perplexity of the uniform model", lambda vocab: float(len(vocab)), context=("vocab",),
        hint="perplexity = exp(cross-entropy), and the cross-entropy of a uniform guess over V characters is log V.",
        mistakes=lambda vocab: {math.log(len(vocab)): "that is the cross-entropy in nats; perplexity is exp of it."}),
    "bigram_after_l": Question(
        "Q2 a bigram after 'l'", _bigram_after_l,
        choices={"a": "'l' with probability 1", "b": "'o' with probability 1",
                 "c": "'l' and 'o', probability 1/2 each", "d": "each of h, e, l, o with probability 1/4"},
        hint="count what followed 'l' in 'hello': a bigram sees only the current character.",
        why="after 'l' the training text has one 'l' and one 'o', and a bigram cannot tell the first 'l' "
            "from the second: it says 1/2 each at both, so it is wrong half the time on each. Only a model "
            "that remembers what came before the 'l' can do better."),
    "add_delta": Question(
        "Q3 add-δ probability", _add_delta,
        hint="(count + δ) / (total + δ·V).",
        mistakes={1.0: "that is the maximum-likelihood estimate 9/9: add δ to every count, and δ·V to the total.",
                  10 / 27: "the denominator is the total count after 'q' (9) plus δ·V (27).",
                  9 / 36: "add δ to the count in the numerator as well."}),
    "add_delta_longer": Question(
        "Q4 why add-δ gets worse for long n", lambda: "b",
        choices={"a": "longer n-grams have more parameters, so the model overfits the training text",
                 "b": "long contexts are seen only a few times, so the δ·V added to their total outweighs the real "
                      "counts and the prediction is pulled towards uniform",
                 "c": "δ is added to fewer characters when the context is longer",
                 "d": "it does not: add-δ improves with n, like backoff"},
        hint="look at (count + δ) / (total + δ·V) for a context seen twice, with V = 66.",
        why="for a context seen twice, δ = 0.1 and V = 66 add 6.6 pseudo-counts spread evenly against 2 real "
            "ones: most of the probability goes uniformly to characters that never followed it. The longer "
            "the context, the more contexts are rare like this. Backoff asks the shorter context instead."),
    "one_hot_column": Question(
        "Q5 column picked by one_hot('o')", lambda: HELLO.index("o"),
        hint="one_hot(i) has its 1 at position i; W @ one_hot(i) is column i.",
        mistakes={4: "Python counts from 0: h is column 0."}),
    "perplexity_from_ce": Question(
        "Q6 perplexity from cross-entropy", lambda: math.exp(1.5),
        hint="perplexity = exp(cross-entropy in nats).",
        mistakes={2 ** 1.5: "2**CE is for a cross-entropy in bits; this one is in nats.",
                  math.log(1.5): "the other way round: perplexity is exp of the cross-entropy."}),
    "bits_per_char": Question(
        "Q7 bits per character", lambda: 1.5 / math.log(2),
        hint="one bit is ln 2 nats: divide the nats by ln 2.",
        mistakes={1.5 * math.log(2): "divide by ln 2, do not multiply: a bit is less information than a nat.",
                  1.5 / math.log(10): "ln 10 converts to decimal digits (bans); bits use ln 2."}),
    "compare_units": Question(
        "Q8 word vs character perplexity", lambda: "c",
        choices={"a": "the character model: 5 is lower than 150",
                 "b": "the word model: it predicts whole words",
                 "c": "neither can be said from these numbers: one is surprise per word, the other per character"},
        hint="perplexity is exp(surprise per predicted unit). What is the unit in each case?",
        why="a word is several characters, so its surprise is the sum of theirs. Compare models on the same "
            "text in the same unit: total bits divided by the number of characters (bits per character)."),
    "temperature": Question(
        "Q9 softmax at τ = 0.5", _tau,
        hint="divide the scores by τ first, then softmax: exp(4) / (exp(4) + exp(2) + exp(0)).",
        mistakes={_tau(tau=1.0): "that is τ = 1: divide the scores by τ.",
                  _tau(tau=2.0): "divide by τ, do not multiply."}),
}
