"""Seq2seq models: teacher forcing equals step-by-step decoding, padding changes nothing, training learns."""

import numpy as np
import pytest
import torch
from torch import nn

from utils.device import get_device
from utils.seq2seq import (Seq2Seq, Seq2SeqConfig, accuracy_by_length, attention_map, evaluate,
                           sequence_log_probs, train_seq2seq, translate)
from utils.seqdata import END_ID, START_ID, make_dates

DEVICE = get_device()


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Train on one thread: on a busy 2-core machine two torch threads slow each other down several-fold."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def data():
    return make_dates(2000, 100, 200, seed=3)


def model_for(data, cell=nn.GRU, **config):
    torch.manual_seed(0)
    return Seq2Seq(len(data.src_vocab), len(data.tgt_vocab), Seq2SeqConfig(hidden_size=16, embed_size=8, **config),
                   cell=cell).to(DEVICE)


CONFIGS = [dict(attention=None), dict(attention="dot"), dict(attention="general"), dict(attention="additive"),
           dict(attention="dot", input_feeding=True), dict(attention="dot", bidirectional=False)]


@pytest.mark.parametrize("cell", [nn.GRU, nn.LSTM], ids=["GRU", "LSTM"])
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_teacher_forcing_equals_decoding_one_step_at_a_time(data, config, cell):
    model = model_for(data, cell, **config).eval()
    batch = data.batch("train", [0, 5, 9]).to(DEVICE)
    with torch.no_grad():
        logits, weights = model(batch)
        memory = model.encode(batch.src, batch.src_lengths)
        state = model.decoder.initial_state(memory)
        for t in range(batch.tgt_in.shape[1]):
            step_logits, state, w = model.decoder.step(batch.tgt_in[:, t], state, memory)
            assert torch.allclose(step_logits, logits[:, t], atol=1e-5), t
            if config["attention"]:
                assert torch.allclose(w, weights[:, t], atol=1e-6)
    N, T = batch.tgt_in.shape
    assert logits.shape == (N, T, len(data.tgt_vocab))
    assert (weights is None) == (config["attention"] is None)


def test_padding_changes_nothing(data):
    """A sequence gives the same encoder states, attention and logits alone or next to a longer one."""
    model = model_for(data).eval()
    lengths = [len(s) for s in data.train.sources[:200]]
    short, long_ = int(np.argmin(lengths)), int(np.argmax(lengths))
    with torch.no_grad():
        alone, _ = model(data.batch("train", [short]).to(DEVICE))
        batched, weights = model(data.batch("train", [short, long_]).to(DEVICE))
    assert torch.allclose(alone[0], batched[0], atol=1e-5)
    assert torch.all(weights[0, :, lengths[short]:] == 0)


@pytest.mark.slow
def test_training_learns_dates_and_beam_of_one_is_greedy(data):
    torch.manual_seed(0)
    model = Seq2Seq(len(data.src_vocab), len(data.tgt_vocab), Seq2SeqConfig(hidden_size=32)).to(DEVICE)
    before = evaluate(model, data, "val")
    history = train_seq2seq(model, data, steps=250, live_plot=False)
    after = evaluate(model, data, "val")
    assert history.loss[-1] < 0.2 * history.loss[0]
    assert before.exact_match == 0 and after.exact_match > 0.8, after
    sources = data.val.sources[:40]
    assert translate(model, data, sources, "beam", beam_size=1) == translate(model, data, sources, "greedy")
    out, weights = attention_map(model, data, data.val.sources[0])
    assert weights.shape == (len(out) + 1, len(data.val.sources[0]))       # one row per output character and </s>
    assert np.allclose(weights.sum(1), 1, atol=1e-5)


def test_accuracy_by_length_bins():
    centres, acc, counts = accuracy_by_length([3, 4, 12, 15, 18], [1, 0, 1, 1, 0], [0, 10, 20, 30])
    assert counts.tolist() == [2, 3] and acc.tolist() == pytest.approx([0.5, 2 / 3]) and centres.tolist() == [4.5, 14.5]


def test_bad_requests_are_explained(data):
    with pytest.raises(ValueError, match="no attention"):
        attention_map(model_for(data, attention=None), data, "7 March 2023")
    with pytest.raises(ValueError, match="'greedy' or 'beam'"):
        translate(model_for(data), data, ["x"], method="sample")
    with pytest.raises(ValueError, match="split must be"):
        data.split("dev")
    assert START_ID == 1


@torch.no_grad()
def test_sequence_log_probs_equal_the_sum_of_step_log_probs(data):
    model = model_for(data).eval()
    sources, outputs = data.val.sources[:3], ["2001-02-03", "1999", "2049-12-31"]
    got = sequence_log_probs(model, data, sources, outputs)
    for i, (s, o) in enumerate(zip(sources, outputs)):
        src, lengths = data.encode_sources([s])
        memory = model.encode(src.to(DEVICE), lengths.to(DEVICE))
        state, total, prev = model.decoder.initial_state(memory), 0.0, START_ID
        for tok in data.tgt_vocab.encode(o) + [END_ID]:
            logits, state, _ = model.decoder.step(torch.tensor([prev], device=DEVICE), state, memory)
            total += float(torch.log_softmax(logits, -1)[0, tok])
            prev = tok
        assert got[i] == pytest.approx(total, abs=1e-4)


@pytest.mark.parametrize("mode, torch_cell", [("gru", nn.GRU), ("lstm", nn.LSTM)])
def test_a_from_scratch_layer_drops_in_and_equals_torch(data, mode, torch_cell):
    """The same model on utils.layers.StackedRNN (the cells of lectures 05-07) and on nn.GRU/nn.LSTM."""
    from functools import partial

    from utils.layers import StackedRNN

    ours = model_for(data, partial(StackedRNN, mode), attention="dot").double().eval()
    theirs = model_for(data, torch_cell, attention="dot").double().eval()
    theirs.load_state_dict(ours.state_dict())                      # the same parameter names and shapes
    batch = data.batch("train", [0, 3, 7]).to(DEVICE)
    with torch.no_grad():
        a, wa = ours(batch)
        b, wb = theirs(batch)
    assert torch.allclose(a, b, atol=1e-10) and torch.allclose(wa, wb, atol=1e-10)
    sources = data.val.sources[:5]
    assert translate(ours.float(), data, sources) == translate(theirs.float(), data, sources)
