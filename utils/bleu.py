"""BLEU from scratch (Papineni et al. 2002): clipped n-gram precisions and a brevity penalty.

Corpus BLEU, as every paper reports it and as ``sacrebleu.corpus_bleu`` computes it::

    p_n  = sum over sentences of clipped matching n-grams / sum of hypothesis n-grams   (n = 1..4)
    BP   = 1 if c > r else exp(1 - r / c)     c: total hypothesis length, r: total reference length
    BLEU = 100 * BP * exp(mean_n log p_n)

*Clipped*: a hypothesis n-gram counts at most as often as it occurs in the reference (with
several references, in the reference where it occurs most often), so "the the the the" does
not score on "the cat". With several references, each sentence's ``r`` is the length of the
reference closest to the hypothesis (ties: the shorter).

Tokenisation is the caller's: pass token lists, or strings that are split on whitespace. The
test in ``tests/test_bleu.py`` compares with ``sacrebleu`` on the same tokens
(``tokenize="none"``), so the comparison is like for like. Smoothing (what to do with a zero
precision) follows sacrebleu's names, after Chen and Cherry (2014):

* ``"none"``: a zero precision makes BLEU 0;
* ``"exp"`` (sacrebleu's default, NIST's ``mteval-v13a``): the k-th zero precision becomes ``1 / (2**k * total_n)``;
* ``"floor"``: a zero precision becomes ``value / total_n`` (default value 0.1);
* ``"add-k"``: add ``value`` (default 1) to the matches and totals of n >= 2.

Scores are on sacrebleu's 0-100 scale.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

SMOOTHING = {"none": None, "exp": None, "floor": 0.1, "add-k": 1.0}


@dataclass
class BLEUResult:
    """Corpus BLEU and its parts (``precisions`` in percent, like sacrebleu's)."""

    score: float
    precisions: list[float]
    brevity_penalty: float
    hyp_len: int
    ref_len: int
    matches: list[int]
    totals: list[int]

    def __str__(self) -> str:
        p = "/".join(f"{x:.1f}" for x in self.precisions)
        return (f"BLEU = {self.score:.2f} {p} (BP = {self.brevity_penalty:.3f} "
                f"ratio = {self.hyp_len / max(1, self.ref_len):.3f} hyp_len = {self.hyp_len} ref_len = {self.ref_len})")


def ngrams(tokens: Sequence[str], n: int) -> Counter:
    """Counts of the n-grams (tuples of ``n`` tokens) of ``tokens``."""
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def _tokens(x) -> list[str]:
    return x.split() if isinstance(x, str) else list(x)


def sentence_stats(hypothesis, references, max_order: int = 4) -> tuple[int, int, list[int], list[int]]:
    """``(hyp_len, closest ref_len, clipped matches per n, hypothesis n-grams per n)`` for one sentence."""
    hyp = _tokens(hypothesis)
    refs = [_tokens(r) for r in references]
    if not refs:
        raise ValueError("each hypothesis needs at least one reference")
    ref_len = min((abs(len(r) - len(hyp)), len(r)) for r in refs)[1]  # closest; ties -> shorter
    matches, totals = [], []
    for n in range(1, max_order + 1):
        hyp_counts = ngrams(hyp, n)
        most = Counter()
        for r in refs:
            most |= ngrams(r, n)  # elementwise max over references
        matches.append(sum(min(c, most[g]) for g, c in hyp_counts.items()))
        totals.append(max(0, len(hyp) - n + 1))
    return len(hyp), ref_len, matches, totals


def bleu_from_stats(hyp_len: int, ref_len: int, matches: Sequence[float], totals: Sequence[float],
                    smooth: str = "exp", smooth_value: float | None = None) -> BLEUResult:
    """BLEU from corpus-level counts (the sums of :func:`sentence_stats` over sentences)."""
    if smooth not in SMOOTHING:
        raise ValueError(f"smooth must be one of {sorted(SMOOTHING)}, got {smooth!r}")
    value = SMOOTHING[smooth] if smooth_value is None else smooth_value
    matches, totals = list(matches), list(totals)
    order = len(matches)
    bp = 1.0 if hyp_len >= ref_len else (math.exp(1 - ref_len / hyp_len) if hyp_len > 0 else 0.0)
    precisions = [0.0] * order
    if not any(matches):
        return BLEUResult(0.0, precisions, bp, hyp_len, ref_len, matches, totals)
    halvings = 1.0
    for n in range(order):
        m, t = matches[n], totals[n]
        if smooth == "add-k" and n > 0:
            m, t = m + value, t + value
        if t == 0:
            break  # no n-grams of this order at all: precision stays 0, so BLEU is 0
        if m == 0 and smooth == "exp":
            halvings *= 2
            precisions[n] = 100.0 / (halvings * t)
        elif m == 0 and smooth == "floor":
            precisions[n] = 100.0 * value / t
        else:
            precisions[n] = 100.0 * m / t
    if min(precisions) <= 0:
        score = 0.0
    else:
        score = bp * math.exp(sum(math.log(p) for p in precisions) / order)
    return BLEUResult(score, precisions, bp, hyp_len, ref_len, matches, totals)


def corpus_bleu(hypotheses: Sequence, references: Sequence, max_order: int = 4, smooth: str = "exp",
                smooth_value: float | None = None, multiple_references: bool = False) -> BLEUResult:
    """Corpus BLEU of ``hypotheses`` against ``references``.

    Args:
        hypotheses: one per sentence, a token list or a whitespace-separated string.
        references: one per sentence, a token list or a string; with ``multiple_references=True``
            each entry is a list of references for that sentence. (sacrebleu takes the transpose:
            one list per reference *stream*.)
        max_order: the largest n (4 for BLEU-4).
        smooth: "exp" (default, as sacrebleu), "none", "floor" or "add-k".
    """
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} references: one entry per sentence")
    if len(hypotheses) == 0:
        raise ValueError("corpus_bleu needs at least one sentence")
    hyp_len = ref_len = 0
    matches, totals = [0] * max_order, [0] * max_order
    for hyp, refs in zip(hypotheses, references):
        h, r, m, t = sentence_stats(hyp, refs if multiple_references else [refs], max_order)
        hyp_len, ref_len = hyp_len + h, ref_len + r
        matches = [a + b for a, b in zip(matches, m)]
        totals = [a + b for a, b in zip(totals, t)]
    return bleu_from_stats(hyp_len, ref_len, matches, totals, smooth, smooth_value)


def sentence_bleu(hypothesis, references, max_order: int = 4, smooth: str = "exp",
                  smooth_value: float | None = None, multiple_references: bool = False) -> BLEUResult:
    """BLEU of one sentence (noisy: use corpus BLEU to compare systems).

    ``references``: one reference, or a list of them with ``multiple_references=True``.
    """
    return corpus_bleu([hypothesis], [references], max_order, smooth, smooth_value, multiple_references)


def char_tokens(text: str) -> list[str]:
    """Characters as tokens (for dates and numbers, whose "words" are digits)."""
    return list(text)
