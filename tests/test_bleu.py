"""The course's BLEU equals sacrebleu's on the same tokens, for every smoothing, to 1e-6."""

import math

import numpy as np
import pytest
import sacrebleu

from utils.bleu import bleu_from_stats, corpus_bleu, ngrams, sentence_bleu, sentence_stats

WORDS = "the a cat dog sat on mat rug and ran fast slowly red big".split()


def noisy_corpus(n: int, seed: int):
    """``n`` reference sentences and hypotheses made from them by deleting, substituting,
    repeating and shuffling words: every n-gram order, clipping and both sides of the brevity
    penalty get exercised."""
    rng = np.random.default_rng(seed)
    hyps, refs = [], []
    for _ in range(n):
        ref = list(rng.choice(WORDS, size=rng.integers(3, 15)))
        hyp = [w for w in ref if rng.random() > 0.15]
        hyp = [str(rng.choice(WORDS)) if rng.random() < 0.2 else w for w in hyp]
        if rng.random() < 0.2 and hyp:
            hyp = hyp + [hyp[0]] * 3                                  # repeated words: clipping matters
        if rng.random() < 0.1:
            rng.shuffle(hyp)
        hyps.append(" ".join(hyp))
        refs.append(" ".join(ref))
    return hyps, refs


@pytest.mark.parametrize("smooth", ["exp", "none", "floor", "add-k"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_corpus_bleu_equals_sacrebleu_on_the_same_tokens(smooth, seed):
    hyps, refs = noisy_corpus(150, seed)
    ours = corpus_bleu(hyps, refs, smooth=smooth)
    theirs = sacrebleu.corpus_bleu(hyps, [refs], tokenize="none", smooth_method=smooth)
    assert abs(ours.score - theirs.score) < 1e-6
    assert np.allclose(ours.precisions, theirs.precisions, atol=1e-6, rtol=0)
    assert abs(ours.brevity_penalty - theirs.bp) < 1e-9
    assert (ours.hyp_len, ours.ref_len) == (theirs.sys_len, theirs.ref_len)
    assert 0 < ours.score < 100


def test_corpus_bleu_with_two_references_equals_sacrebleu():
    hyps, refs = noisy_corpus(120, 3)
    _, refs2 = noisy_corpus(120, 4)
    ours = corpus_bleu(hyps, [[a, b] for a, b in zip(refs, refs2)], multiple_references=True)
    theirs = sacrebleu.corpus_bleu(hyps, [refs, refs2], tokenize="none")
    assert abs(ours.score - theirs.score) < 1e-6
    assert ours.ref_len == theirs.ref_len


def test_short_hypotheses_and_the_brevity_penalty_match_sacrebleu():
    hyps, refs = noisy_corpus(100, 5)
    hyps = [" ".join(h.split()[:2]) for h in hyps]               # far too short: BP << 1, few 3/4-grams
    for smooth in ["exp", "floor", "none"]:
        ours = corpus_bleu(hyps, refs, smooth=smooth)
        theirs = sacrebleu.corpus_bleu(hyps, [refs], tokenize="none", smooth_method=smooth)
        assert abs(ours.score - theirs.score) < 1e-6, smooth
    assert ours.brevity_penalty < 0.5


def test_character_tokens_match_sacrebleu_char_tokenisation():
    hyps = ["2023-03-07", "1999-12-31", "2001-01-10", "1950-06-06"] * 30
    refs = ["2023-03-07", "1999-12-13", "2001-10-01", "1950-06-16"] * 30
    ours = corpus_bleu([list(h) for h in hyps], [list(r) for r in refs])
    theirs = sacrebleu.corpus_bleu([" ".join(h) for h in hyps], [[" ".join(r) for r in refs]], tokenize="none")
    assert abs(ours.score - theirs.score) < 1e-6


def test_clipping_by_hand():
    # Papineni et al.'s example: "the the the the the the the" against "the cat is on the mat".
    h, r, m, t = sentence_stats("the the the the the the the", ["the cat is on the mat"])
    assert (h, r, m[0], t[0]) == (7, 6, 2, 7)
    assert ngrams("a b a b".split(), 2) == {("a", "b"): 2, ("b", "a"): 1}


def test_bleu_from_stats_formula():
    res = bleu_from_stats(8, 10, [6, 4, 2, 1], [8, 7, 6, 5], smooth="none")
    expected = 100 * math.exp(1 - 10 / 8) * math.exp(np.mean(np.log([6 / 8, 4 / 7, 2 / 6, 1 / 5])))
    assert res.score == pytest.approx(expected, rel=1e-12)


def test_perfect_and_disjoint():
    assert corpus_bleu(["a b c d e"], ["a b c d e"]).score == pytest.approx(100.0)
    assert corpus_bleu(["x y z w"], ["a b c d"]).score == 0.0
    assert sentence_bleu("a b c d", "a b c d").score == pytest.approx(100.0)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="2 hypotheses but 1 references"):
        corpus_bleu(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="smooth must be one of"):
        corpus_bleu(["a"], ["a"], smooth="laplace")
