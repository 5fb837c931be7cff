"""Greedy, beam and exhaustive search: beam k=1 is greedy, an unpruned beam is exhaustive, beam can err."""

import math

import pytest
import torch

from utils.decoding import (TinyLM, all_sequences, beam_search, exhaustive_search, greedy_decode,
                            select_state)


def search(model, k, max_len, alpha=0.0, trace=False):
    return beam_search(model.step, model.initial_state(), model.start_id, model.end_id, max_len, k,
                       alpha=alpha, trace=trace)


def exhaustive(model, max_len, alpha=0.0):
    return exhaustive_search(model.step, model.initial_state(), model.start_id, model.end_id, max_len, alpha)


@pytest.mark.parametrize("seed", range(20))
def test_beam_of_one_is_greedy(seed):
    model = TinyLM(vocab_size=5, seed=seed)
    tokens, log_prob = greedy_decode(model.step, model.initial_state(), 1, model.start_id, model.end_id, 8)
    best = search(model, 1, 8).best
    assert best.tokens == tokens[0]
    assert best.log_prob == pytest.approx(float(log_prob[0]), abs=1e-12)


def test_greedy_batch_equals_greedy_one_by_one():
    model = TinyLM(vocab_size=5, seed=3)
    h0 = torch.randn(6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    batch, lp = greedy_decode(model.step, h0, 6, model.start_id, model.end_id, 7)
    for i in range(6):
        one, lp1 = greedy_decode(model.step, h0[i:i + 1], 1, model.start_id, model.end_id, 7)
        assert one[0] == batch[i] and float(lp1[0]) == pytest.approx(float(lp[i]))


def test_exhaustive_search_scores_every_sequence_directly():
    model = TinyLM(vocab_size=4, seed=1)
    ranked = exhaustive(model, 3)
    others = [v for v in range(model.V) if v != model.end_id]
    direct = {(seq, True): model.sequence_log_prob(seq) for seq in [()] + list(all_sequences(others, 2))}
    direct.update({(seq, False): model.sequence_log_prob(seq, finished=False) for seq in all_sequences(others, 3)
                   if len(seq) == 3})
    assert len(ranked) == len(direct)
    for h in ranked:
        assert h.log_prob == pytest.approx(direct[(tuple(h.tokens), h.finished)], abs=1e-10)
    probs = sum(math.exp(h.log_prob) for h in ranked)
    assert probs == pytest.approx(1.0, abs=1e-9)  # the outputs partition all continuations


@pytest.mark.parametrize("alpha", [0.0, 0.7])
@pytest.mark.parametrize("seed", range(10))
def test_an_unpruned_beam_is_exhaustive_search(seed, alpha):
    V, max_len = 4, 4
    model = TinyLM(vocab_size=V, seed=seed)
    k = V ** max_len                                 # never prunes a candidate nor stops early
    beam, full = search(model, k, max_len, alpha).hypotheses, exhaustive(model, max_len, alpha)
    assert [(h.tokens, h.finished) for h in beam[:20]] == [(h.tokens, h.finished) for h in full[:20]]
    assert [h.score for h in beam] == pytest.approx([h.score for h in full], abs=1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_beam_of_vocabulary_size_finds_the_best_sequence_up_to_two_tokens(seed):
    model = TinyLM(vocab_size=5, seed=seed)
    best = exhaustive(model, 2)[0]
    found = search(model, model.V, 2).best
    assert (found.tokens, found.finished) == (best.tokens, best.finished)
    assert found.log_prob == pytest.approx(best.log_prob, abs=1e-12)


def test_a_small_beam_can_miss_the_best_sequence_and_never_beats_exhaustive():
    errors = 0
    for seed in range(40):
        model = TinyLM(vocab_size=4, seed=seed, temperature=1.0)
        best = exhaustive(model, 5)[0]
        for k in (1, 2):
            found = search(model, k, 5).best
            assert found.log_prob <= best.log_prob + 1e-12
            errors += found.log_prob < best.log_prob - 1e-9
    assert errors > 0, "greedy/k=2 found the best sequence on all 40 tiny models: no search error to teach"


def test_finished_hypotheses_and_the_beam_shrinks():
    model = TinyLM(vocab_size=5, seed=4, temperature=1.0)
    result = search(model, 3, 6, trace=True)
    finished = [len(s.finished) for s in result.steps]
    slots = [len(s.live) + sum(finished[:i + 1]) for i, s in enumerate(result.steps)]
    assert slots == [3] * len(slots)                                   # k slots: live + finished so far
    assert sum(finished) == 3 or len(result.steps) == 6                # stopped: k finished, or max_len
    assert result.steps[0].expansions == model.V
    assert all(s.expansions == len(p.live) * model.V for p, s in zip(result.steps, result.steps[1:]))
    for h in result.hypotheses:
        assert h.log_prob == pytest.approx(model.sequence_log_prob(h.tokens, h.finished), abs=1e-10)
    scores = [h.score for h in result.hypotheses]
    assert scores == sorted(scores, reverse=True)


def test_improbable_early_endings_do_not_stop_the_search():
    """A confident model: token 0 has p = 0.97, </s> 0.02 until five tokens are out, then </s> 0.97.

    A beam that kept k live hypotheses and stopped at k finished ones would stop at step 3 with
    three improbable early endings; here the likeliest hypothesis always keeps its slot."""
    END = 3

    def confident(tokens, n_out):
        probs = torch.full((len(tokens), 4), 0.005, dtype=torch.float64)
        done = n_out >= 5
        probs[:, 0] = torch.where(done, 0.02, 0.97)
        probs[:, END] = torch.where(done, 0.97, 0.02)
        return probs.log(), n_out + 1

    result = beam_search(confident, torch.zeros(1, dtype=torch.long), 9, END, 10, beam_size=3)
    greedy, lp = greedy_decode(confident, torch.zeros(1, dtype=torch.long), 1, 9, END, 10)
    assert result.best.tokens == [0] * 5 == greedy[0] and result.best.finished
    assert result.best.log_prob == pytest.approx(float(lp[0]))


def test_length_normalisation_changes_the_ranking_of_finished_hypotheses():
    model = TinyLM(vocab_size=5, seed=2, temperature=1.0)
    plain = search(model, 5, 6, alpha=0.0).hypotheses
    normed = search(model, 5, 6, alpha=1.0).hypotheses
    for h in normed:
        assert h.score == pytest.approx(h.log_prob / h.length)
    assert sum(h.length for h in normed[:2]) >= sum(h.length for h in plain[:2])


def test_ties_are_broken_by_the_smaller_token_id():
    # A model with uniform predictions: every candidate ties, so the rule alone decides.
    def uniform(tokens, state):
        return torch.full((len(tokens), 4), -math.log(4), dtype=torch.float64), state

    result = beam_search(uniform, None, start_id=0, end_id=3, max_len=2, beam_size=2)
    assert [h.tokens for h in result.hypotheses] == [[0, 0], [0, 1]]
    assert not any(h.finished for h in result.hypotheses)


def test_select_state_reorders_nested_states_and_rejects_others():
    state = (torch.arange(3)[:, None], {"c": torch.arange(3) * 10})
    picked = select_state(state, torch.tensor([2, 2, 0]))
    assert picked[0].flatten().tolist() == [2, 2, 0] and picked[1]["c"].tolist() == [20, 20, 0]
    with pytest.raises(TypeError, match="tensor or a tuple"):
        select_state("h", torch.tensor([0]))


def test_bad_arguments_are_named():
    model = TinyLM()
    with pytest.raises(ValueError, match="beam_size must be >= 1"):
        search(model, 0, 3)
    with pytest.raises(ValueError, match="log_probs of shape"):
        beam_search(lambda t, s: (torch.zeros(3), s), None, 0, 1, 3, 2)
    with pytest.raises(ValueError, match="limit"):
        exhaustive_search(TinyLM(vocab_size=30).step, TinyLM(vocab_size=30).initial_state(), 0, 1, 5)
