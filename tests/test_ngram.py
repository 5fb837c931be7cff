"""NGramLM: hand counts, normalisation, add-δ, backoff, perplexity."""

import itertools

import numpy as np
import pytest

from utils.ngram import NGramLM, tune

# "hello" with vocabulary [h, e, l, o] -> ids h=0 e=1 l=2 o=3
HELLO = np.array([0, 1, 2, 2, 3])


def test_counts_match_hand_counts():
    lm = NGramLM(order=2, vocab_size=4).fit(HELLO)
    np.testing.assert_array_equal(lm.counts([0]), [0, 1, 0, 0])   # h -> e
    np.testing.assert_array_equal(lm.counts([2]), [0, 0, 1, 1])   # l -> l, l -> o
    np.testing.assert_array_equal(lm.counts([3]), [0, 0, 0, 0])   # o is never followed
    np.testing.assert_array_equal(lm.counts([]), [1, 1, 2, 1])    # unigram counts
    lm3 = NGramLM(order=3, vocab_size=4).fit(HELLO)
    np.testing.assert_array_equal(lm3.counts([1, 2]), [0, 0, 1, 0])  # "el" -> l
    np.testing.assert_array_equal(lm3.counts([9 % 4, 1, 2]), [0, 0, 1, 0])  # only the last n-1 count


def test_add_delta_formula_and_mle():
    lm = NGramLM(order=2, vocab_size=4, delta=0.5).fit(HELLO)
    np.testing.assert_allclose(lm.prob([2]), (np.array([0, 0, 1, 1]) + 0.5) / (2 + 0.5 * 4))
    np.testing.assert_allclose(lm.prob([3]), np.full(4, 0.25))  # unseen context: uniform
    mle = NGramLM(order=2, vocab_size=4, delta=0.0).fit(HELLO)
    np.testing.assert_allclose(mle.prob([2]), [0, 0, 0.5, 0.5])


@pytest.mark.parametrize("smoothing", ["add-delta", "backoff"])
@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_every_distribution_sums_to_one(smoothing, order):
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 5, size=200)
    lm = NGramLM(order, 5, smoothing=smoothing, delta=0.3, discount=0.6).fit(ids)
    for ctx in itertools.product(range(5), repeat=order - 1):  # seen and unseen contexts
        p = lm.prob(list(ctx))
        assert p.shape == (5,)
        assert np.all(p > 0)
        assert p.sum() == pytest.approx(1.0, abs=1e-12)


def test_backoff_by_hand():
    # bigram backoff with discount d over unigram add-1 (V=4): counts after "l" are l:1, o:1.
    d = 0.5
    lm = NGramLM(order=2, vocab_size=4, smoothing="backoff", delta=1.0, discount=d).fit(HELLO)
    uni = (np.array([1, 1, 2, 1]) + 1.0) / (5 + 4)           # add-1 unigram
    p = lm.prob([2])
    kept = (1 - d) / 2                                        # seen: (count - d) / total
    left = d * 2 / 2                                          # mass set aside: d * types / total
    alpha = left / (uni[0] + uni[1])                          # shared over unseen h, e by the unigram
    np.testing.assert_allclose(p, [alpha * uni[0], alpha * uni[1], kept, kept])
    np.testing.assert_allclose(lm.prob([3]), uni)             # unseen context: the unigram itself


def test_backoff_recurses_through_orders():
    lm = NGramLM(order=3, vocab_size=4, smoothing="backoff").fit(HELLO)
    bigram = NGramLM(order=2, vocab_size=4, smoothing="backoff").fit(HELLO)
    np.testing.assert_allclose(lm.prob([3, 2]), bigram.prob([2]))  # "ol" unseen -> bigram of "l"


@pytest.mark.parametrize("smoothing", ["add-delta", "backoff"])
def test_log_probs_and_perplexity(smoothing):
    rng = np.random.default_rng(1)
    train, val = rng.integers(0, 6, 300), rng.integers(0, 6, 50)
    lm = NGramLM(3, 6, smoothing=smoothing).fit(train)
    lp = lm.log_probs(val)
    assert lp.shape == (49,)
    by_hand = [np.log(lm.prob(val[max(0, t - 2):t])[val[t]]) for t in range(1, 50)]
    np.testing.assert_allclose(lp, by_hand)
    assert lm.perplexity(val) == pytest.approx(np.exp(-np.mean(by_hand)))


def test_uniform_model_has_perplexity_V():
    lm = NGramLM(1, 7, delta=1.0).fit(np.arange(7))  # every character once -> uniform
    assert lm.perplexity(np.array([3, 1, 4, 1, 5])) == pytest.approx(7.0)


def test_sample_is_seeded_and_in_range():
    lm = NGramLM(2, 4).fit(HELLO)
    a = lm.sample([0], 20, np.random.default_rng(3))
    b = lm.sample([0], 20, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (20,) and a.min() >= 0 and a.max() < 4


def test_errors_are_helpful():
    with pytest.raises(RuntimeError, match="fit"):
        NGramLM(2, 4).prob([0])
    with pytest.raises(ValueError, match="outside"):
        NGramLM(2, 4).fit([0, 5])
    with pytest.raises(ValueError, match="smoothing"):
        NGramLM(2, 4, smoothing="kneser-ney")


def test_tune_keeps_the_best_on_validation_only():
    rng = np.random.default_rng(0)
    train = np.tile([0, 1, 2, 3], 50)                       # deterministic pattern: a bigram predicts it
    val = np.tile([0, 1, 2, 3], 10)
    best, results = tune(train, val, 4, orders=[1, 2, 3], deltas=(0.1, 1.0), discounts=(0.5,))
    assert len(results) == 3 * 3
    assert best.perplexity(val) == pytest.approx(min(results.values()))
    assert best.order >= 2 and results[("add-delta", 1, 1.0)] == pytest.approx(4.0, rel=1e-2)  # unigram: uniform
    noisy_val = rng.integers(0, 4, size=200)                 # another validation text, another choice
    _, other = tune(train, noisy_val, 4, orders=[1, 2, 3], deltas=(0.1, 1.0), discounts=(0.5,))
    assert min(other, key=other.get) != min(results, key=results.get)
    with pytest.raises(ValueError, match="nothing to tune"):
        tune(train, val, 4, orders=[])
