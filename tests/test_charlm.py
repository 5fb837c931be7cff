"""Character LMs: the numpy loss vs torch, CharRNN vs a hand-rolled forward and nn.RNN, sampling,
perplexity."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from utils.charlm import (CharRNN, FixedWindowLM, detach_hidden, evaluate_loss, one_hot, perplexity, train_lm,
                          sample, softmax, temporal_softmax_loss, windows)
from utils.data import StreamBatches, Vocab
from utils.device import get_device
from utils.gradcheck import check_gradients


# --------------------------------------------------------------------------- numpy loss

def test_one_hot_times_matrix_picks_a_column():
    W = np.arange(12.0).reshape(3, 4)            # (H, V)
    x = one_hot(2, 4)                            # (V,)
    np.testing.assert_array_equal(W @ x, W[:, 2])


def test_softmax_is_stable_and_normalised():
    p = softmax(np.array([[1000.0, 1001.0, 1002.0], [-1e4, 0.0, 0.0]]))
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p[0], softmax(np.array([0.0, 1.0, 2.0])))


def test_temporal_softmax_loss_matches_torch_cross_entropy():
    rng = np.random.default_rng(0)
    N, T, V = 3, 5, 7
    scores, y = rng.normal(size=(N, T, V)), rng.integers(0, V, size=(N, T))
    loss, dscores = temporal_softmax_loss(scores, y)
    s = torch.tensor(scores, requires_grad=True)
    ref = F.cross_entropy(s.reshape(N * T, V), torch.tensor(y).reshape(N * T))
    ref.backward()
    assert loss == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(dscores, s.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_temporal_softmax_loss_gradcheck_with_mask():
    rng = np.random.default_rng(1)
    N, T, V = 2, 4, 5
    scores, y = rng.normal(size=(N, T, V)), rng.integers(0, V, size=(N, T))
    mask = rng.random((N, T)) > 0.3
    _, dscores = temporal_softmax_loss(scores, y, mask)
    check_gradients(lambda scores: temporal_softmax_loss(scores, y, mask)[0], {"scores": scores},
                    {"scores": dscores})


def test_uniform_scores_give_log_V():
    loss, _ = temporal_softmax_loss(np.zeros((1, 4, 4)), np.array([[1, 2, 2, 3]]))
    assert loss == pytest.approx(math.log(4))


# --------------------------------------------------------------------------- models

def test_fixed_window_lm_shapes_and_windows():
    ctx, nxt = windows(np.arange(10), 3)
    np.testing.assert_array_equal(ctx[0], [0, 1, 2])
    np.testing.assert_array_equal(nxt[:2], [3, 4])
    model = FixedWindowLM(vocab_size=10, context=3)
    assert model(torch.as_tensor(ctx)).shape == (7, 10)
    with pytest.raises(ValueError, match="K=3"):
        model(torch.zeros(2, 4, dtype=torch.long))


def _hand_rolled(model: CharRNN, x: torch.Tensor, act=torch.tanh) -> torch.Tensor:
    """h_t = tanh(W_ih e_t + b_ih + W_hh h_{t-1} + b_hh), logits_t = W_hy h_t + b_y (torch's layout)."""
    r = model.rnn
    N, T = x.shape
    e = model.embed.weight[x]                                        # (N, T, E): pick rows
    h = torch.zeros(N, model.hidden_size, dtype=e.dtype)
    out = []
    for t in range(T):
        h = act(e[:, t] @ r.weight_ih_l0.T + r.bias_ih_l0 + h @ r.weight_hh_l0.T + r.bias_hh_l0)
        out.append(h @ model.head.weight.T + model.head.bias)
    return torch.stack(out, dim=1)                                   # (N, T, V)


def test_charrnn_matches_hand_rolled_forward_and_gradients():
    torch.manual_seed(0)
    model = CharRNN(vocab_size=6, hidden_size=5, embedding_dim=4).double()
    x = torch.randint(0, 6, (3, 7))
    logits, h = model(x)
    assert logits.shape == (3, 7, 6) and h.shape == (1, 3, 5)
    ref = _hand_rolled(model, x)
    torch.testing.assert_close(logits, ref, rtol=1e-12, atol=1e-12)
    g1 = torch.autograd.grad(logits.square().sum(), list(model.parameters()))
    g2 = torch.autograd.grad(_hand_rolled(model, x).square().sum(), list(model.parameters()))
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_relu_charrnn_matches_hand_rolled():
    torch.manual_seed(7)
    model = CharRNN(6, 5, embedding_dim=4, nonlinearity="relu").double()
    x = torch.randint(0, 6, (2, 5))
    torch.testing.assert_close(model(x)[0], _hand_rolled(model, x, torch.relu))
    with pytest.raises(ValueError, match="cell='rnn'"):
        CharRNN(6, 5, cell="gru", nonlinearity="relu")


def test_embedding_is_a_one_hot_matmul_nn_rnn_with_copied_weights():
    """An nn.RNN fed one-hot vectors, with W_ih' = W_ih @ E^T, is the same model."""
    torch.manual_seed(1)
    V, E, H = 6, 4, 5
    model = CharRNN(V, H, embedding_dim=E).double()
    ref = torch.nn.RNN(V, H, batch_first=True).double()
    with torch.no_grad():
        ref.weight_ih_l0.copy_(model.rnn.weight_ih_l0 @ model.embed.weight.T)  # (H, E) @ (E, V)
        ref.weight_hh_l0.copy_(model.rnn.weight_hh_l0)
        ref.bias_ih_l0.copy_(model.rnn.bias_ih_l0)
        ref.bias_hh_l0.copy_(model.rnn.bias_hh_l0)
    x = torch.randint(0, V, (2, 9))
    h0 = torch.randn(1, 2, H, dtype=torch.float64)
    out, hT = ref(F.one_hot(x, V).double(), h0)
    logits, h = model(x, h0)
    torch.testing.assert_close(logits, model.head(out), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(h, hT, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_carrying_state_equals_one_long_pass(cell):
    torch.manual_seed(2)
    model = CharRNN(7, 8, num_layers=2, cell=cell).double()
    x = torch.randint(0, 7, (2, 12))
    full, _ = model(x)
    a, h = model(x[:, :5])
    b, _ = model(x[:, 5:], detach_hidden(h))
    torch.testing.assert_close(torch.cat([a, b], dim=1), full)


def test_charrnn_rejects_float_input():
    with pytest.raises(ValueError, match="int64"):
        CharRNN(5, 4)(torch.zeros(2, 3))


# --------------------------------------------------------------------------- sampling and perplexity

VOCAB = Vocab(list("helo"))


def test_sampling_at_temperature_zero_is_argmax():
    torch.manual_seed(3)
    model = CharRNN(4, 8)
    text = sample(model, VOCAB, "h", 15, temperature=0.0)
    # greedy by hand
    x, h, out = torch.tensor([[VOCAB.stoi["h"]]]), None, []
    with torch.no_grad():
        for _ in range(15):
            logits, h = model(x, h)
            x = logits[:, -1].argmax(-1, keepdim=True)
            out.append(int(x))
    assert text == VOCAB.decode(out)
    assert sample(model, VOCAB, "h", 15, temperature=1e-4, seed=0) == text  # T -> 0 approaches argmax


def test_seeded_sampling_is_reproducible():
    torch.manual_seed(4)
    model = CharRNN(4, 8)
    a = sample(model, VOCAB, "he", 40, temperature=1.0, seed=7)
    b = sample(model, VOCAB, "he", 40, temperature=1.0, generator=torch.Generator().manual_seed(7))
    assert a == b and len(a) == 40 and set(a) <= set("helo")
    assert model.training  # sample restores the mode


def test_high_temperature_is_nearly_uniform():
    torch.manual_seed(5)
    model = CharRNN(4, 8)
    text = sample(model, VOCAB, "h", 1500, temperature=1e3, seed=1)
    freq = np.array([text.count(c) for c in "ehlo"]) / len(text)
    np.testing.assert_allclose(freq, 0.25, atol=0.05)


@pytest.mark.parametrize("batch_size,seq_len", [(1, 4), (1, 100), (3, 5)])
def test_perplexity_is_exp_mean_cross_entropy(batch_size, seq_len):
    torch.manual_seed(6)
    model = CharRNN(5, 6)
    ids = np.random.default_rng(0).integers(0, 5, size=61)
    per = (len(ids) - 1) // batch_size
    x = torch.as_tensor(ids[:per * batch_size]).view(batch_size, per)
    y = torch.as_tensor(ids[1:per * batch_size + 1]).view(batch_size, per)
    with torch.no_grad():
        logits, _ = model(x)                                         # one pass = state carried
    ce = F.cross_entropy(logits.reshape(-1, 5).double(), y.reshape(-1)).item()
    assert evaluate_loss(model, ids, batch_size, seq_len) == pytest.approx(ce, rel=1e-6)
    assert perplexity(model, ids, batch_size, seq_len) == pytest.approx(math.exp(ce), rel=1e-6)


def test_evaluate_without_carrying_the_state_scores_each_chunk_from_zeros():
    torch.manual_seed(7)
    model = CharRNN(5, 6)
    ids = np.random.default_rng(1).integers(0, 5, size=41)           # 40 targets, chunks of 8
    x, y = torch.as_tensor(ids[:-1]).view(5, 8), torch.as_tensor(ids[1:]).view(5, 8)
    with torch.no_grad():
        logits, _ = model(x)                                         # 5 chunks as a batch: each from h = 0
    ce = F.cross_entropy(logits.reshape(-1, 5).double(), y.reshape(-1)).item()
    assert evaluate_loss(model, ids, 1, 8, carry_state=False) == pytest.approx(ce, rel=1e-6)
    assert evaluate_loss(model, ids, 1, 8) != pytest.approx(ce, rel=1e-6)  # carrying it is different


@pytest.mark.slow
def test_train_lm_is_the_lecture_recipe_written_out():
    """train_lm gives the same weights as lecture 02's loop: carried state, Adam, one-cycle, clipping."""
    ids = np.random.default_rng(2).integers(0, 7, size=2_000)
    torch.manual_seed(3)
    ours = CharRNN(7, 16)
    theirs = CharRNN(7, 16)
    theirs.load_state_dict(ours.state_dict())
    history = train_lm(ours, ids, steps=12, batch_size=4, seq_len=8, lr=1e-2, live_plot=False)

    optimizer = torch.optim.Adam(theirs.parameters(), lr=1e-2)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-2, total_steps=12, pct_start=0.1)
    h, losses = None, []
    for _, (x, y) in zip(range(12), StreamBatches(ids, 4, 8)):
        logits, h = theirs(torch.as_tensor(x), h)
        h = h.detach()
        loss = F.cross_entropy(logits.reshape(-1, 7), torch.as_tensor(y).reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(theirs.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
    np.testing.assert_allclose(history.loss, losses, rtol=1e-5)
    for a, b in zip(ours.parameters(), theirs.parameters()):
        torch.testing.assert_close(a, b)


@pytest.mark.slow
def test_train_lm_learns_a_repeating_text():
    """On the default device (CUDA when present): the recipe runs where the model is."""
    ids = np.tile(np.arange(5), 400)
    torch.manual_seed(0)
    model = CharRNN(5, 16).to(get_device())
    history = train_lm(model, ids, steps=60, batch_size=8, seq_len=10, lr=3e-2, live_plot=False)
    assert history.loss[-1] < 0.1 * history.loss[0]
    assert evaluate_loss(model, ids[:200]) < 0.1
