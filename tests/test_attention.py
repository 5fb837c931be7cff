"""Attention scores against their formulas and finite differences; masking; multi-head against torch."""

import numpy as np
import pytest
import torch

from utils.attention import (Attention, MultiHeadAttention, additive_scores, context, dot_scores,
                             general_scores, hard_weights, length_mask, masked_softmax, window_mask)
from utils.device import get_device
from utils.gradcheck import check_gradients

DEVICE = get_device()


def rand(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64)


def test_scores_match_their_formulas_elementwise():
    N, S, H, A = 2, 5, 3, 4
    q, k = rand(N, H, seed=1), rand(N, S, H, seed=2)
    W, Wq, Wk, v = rand(H, H, seed=3), rand(A, H, seed=4), rand(A, H, seed=5), rand(A, seed=6)
    dot, gen, add = dot_scores(q, k), general_scores(q, k, W), additive_scores(q, k, Wq, Wk, v)
    for n in range(N):
        for i in range(S):
            assert dot[n, i] == pytest.approx(float(q[n] @ k[n, i]))
            assert gen[n, i] == pytest.approx(float(q[n] @ W @ k[n, i]))
            assert add[n, i] == pytest.approx(float(v @ torch.tanh(Wq @ q[n] + Wk @ k[n, i])))


def test_a_sequence_of_queries_equals_one_query_at_a_time():
    q, k = rand(2, 4, 3, seed=1), rand(2, 6, 3, seed=2)
    W, Wq, Wk, v = rand(3, 3, seed=3), rand(5, 3, seed=4), rand(5, 3, seed=5), rand(5, seed=6)
    for fn, extra in [(dot_scores, ()), (general_scores, (W,)), (additive_scores, (Wq, Wk, v))]:
        all_t = fn(q, k, *extra)
        assert all_t.shape == (2, 4, 6)
        for t in range(4):
            assert torch.allclose(all_t[:, t], fn(q[:, t], k, *extra))


@pytest.mark.parametrize("score", ["dot", "general", "additive"])
def test_attention_gradients_match_finite_differences(score):
    torch.manual_seed(0)
    layer = Attention(3, 3, score, attention_size=4).double()
    mask = length_mask(torch.tensor([5, 3]), 5)
    keys0, query0 = rand(2, 5, 3, seed=7), rand(2, 3, seed=8)
    dout = rand(2, 3, seed=9).numpy()

    def f(query, keys):
        with torch.no_grad():
            return layer(torch.tensor(query), torch.tensor(keys), mask)[0].numpy()

    keys, query = keys0.clone().requires_grad_(), query0.clone().requires_grad_()
    out, _ = layer(query, keys, mask)
    out.backward(torch.tensor(dout))
    errors = check_gradients(f, {"query": query0.numpy(), "keys": keys0.numpy()},
                             {"query": query.grad.numpy(), "keys": keys.grad.numpy()}, dout, tol=1e-7)
    assert max(errors.values()) < 1e-7


def test_a_fully_padded_tail_gets_weight_exactly_zero_and_no_gradient():
    N, S, H = 3, 7, 4
    lengths = torch.tensor([7, 4, 2])
    mask = length_mask(lengths)
    for score in ["dot", "general", "additive"]:
        torch.manual_seed(1)
        layer = Attention(H, H, score).double()
        keys = (rand(N, S, H, seed=2) * 3).requires_grad_()
        query = (rand(N, 2, H, seed=3) * 3).requires_grad_()
        ctx, weights = layer(query, keys, mask)
        assert weights.shape == (N, 2, S)
        for n, L in enumerate(lengths.tolist()):
            assert torch.all(weights[n, :, L:] == 0), score            # exactly zero, not 1e-30
            assert torch.allclose(weights[n].sum(-1), torch.ones(2, dtype=torch.float64))
        (ctx ** 2).sum().backward()
        for n, L in enumerate(lengths.tolist()):
            assert torch.all(keys.grad[n, L:] == 0), score
            assert keys.grad[n, :L].abs().sum() > 0
        # Changing the padding cannot change anything.
        other = keys.detach().clone()
        other[1, 4:] = 1e6
        assert torch.equal(layer(query, other, mask)[0][1], ctx[1])


def test_without_the_mask_padding_leaks_into_the_context():
    keys, query = rand(1, 4, 3, seed=1), rand(1, 3, seed=2)
    keys[0, 2:] = 5.0
    masked = masked_softmax(dot_scores(query, keys), length_mask(torch.tensor([2]), 4))
    unmasked = masked_softmax(dot_scores(query, keys))
    assert masked[0, 2:].sum() == 0 and unmasked[0, 2:].sum() > 0


def test_masked_softmax_explains_bad_masks():
    with pytest.raises(ValueError, match="all False"):
        masked_softmax(torch.zeros(2, 3), torch.tensor([[True, False, False], [False, False, False]]))
    with pytest.raises(ValueError, match="does not match"):
        masked_softmax(torch.zeros(2, 3), torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="of one size"):
        dot_scores(torch.zeros(2, 3), torch.zeros(2, 5, 4))
    with pytest.raises(ValueError, match="score must be one of"):
        Attention(3, 3, "cosine")


def test_context_is_the_weighted_sum():
    w, v = torch.tensor([[0.2, 0.8, 0.0]]), torch.tensor([[[1.0, 0.0], [0.0, 1.0], [9.0, 9.0]]])
    assert torch.allclose(context(w, v), torch.tensor([[0.2, 0.8]]))


def test_hard_and_local_attention():
    w = torch.tensor([[0.1, 0.6, 0.3]])
    assert hard_weights(w).tolist() == [[0.0, 1.0, 0.0]]
    m = window_mask(torch.tensor([[1.0, 3.6]]), 6, 1)
    assert m.tolist() == [[[True, True, True, False, False, False], [False, False, False, True, True, False]]]
    layer = Attention(2, 2, "dot").double()
    keys, q = rand(1, 6, 2), rand(1, 2, 2, seed=4)
    _, weights = layer(q, keys, length_mask(torch.tensor([5]), 6), window=m)
    assert torch.all(weights[0, 1, :2] == 0) and torch.all(weights[0, 1, 5:] == 0)
    layer.mode = "hard"
    _, hard = layer(q, keys)
    assert torch.all(hard.sum(-1) == 1) and set(hard.unique().tolist()) == {0.0, 1.0}
    layer.mode, layer.half_width = "soft", 1
    _, soft = layer(q, keys)
    layer.mode = "local"
    _, local = layer(q, keys)
    peak = soft.argmax(-1)
    for t in range(2):
        p = int(peak[0, t])
        outside = [i for i in range(6) if abs(i - p) > 1]
        assert torch.all(local[0, t, outside] == 0)
        inside = [i for i in range(6) if abs(i - p) <= 1]
        assert torch.allclose(local[0, t, inside], soft[0, t, inside] / soft[0, t, inside].sum())
    layer.mode = "sharp"
    with pytest.raises(ValueError, match="mode must be"):
        layer(q, keys)


@pytest.mark.parametrize("heads", [1, 2, 4])
def test_multi_head_attention_equals_torch(heads):
    torch.manual_seed(0)
    E = 8
    ours = MultiHeadAttention(E, heads).double().to(DEVICE)
    theirs = torch.nn.MultiheadAttention(E, heads, batch_first=True).double().to(DEVICE)
    with torch.no_grad():
        ours.in_proj_bias.normal_()
        theirs.in_proj_weight.copy_(ours.in_proj_weight)
        theirs.in_proj_bias.copy_(ours.in_proj_bias)
        theirs.out_proj.weight.copy_(ours.out_proj.weight)
        theirs.out_proj.bias.copy_(ours.out_proj.bias)
    q, kv = rand(2, 3, E, seed=1).to(DEVICE), rand(2, 5, E, seed=2).to(DEVICE)
    mask = length_mask(torch.tensor([5, 3]), 5).to(DEVICE)
    out, w = ours(q, kv, kv, mask)
    ref, ref_w = theirs(q, kv, kv, key_padding_mask=~mask, average_attn_weights=False)
    assert torch.allclose(out, ref, atol=1e-12) and torch.allclose(w, ref_w, atol=1e-12)
    self_out, _ = ours(kv, kv, kv)                                # self-attention: one sequence attends to itself
    assert torch.allclose(self_out, theirs(kv, kv, kv)[0], atol=1e-12)


def test_heads_are_concatenated_not_summed():
    torch.manual_seed(0)
    mha = MultiHeadAttention(4, 2).double()
    x = rand(1, 3, 4, seed=5)
    out, weights = mha(x, x, x)
    W_v = mha.in_proj_weight[8:]
    b_v = mha.in_proj_bias[8:]
    v = x @ W_v.T + b_v                                           # (1, 3, 4): head 0 uses columns 0-1, head 1 columns 2-3
    heads = [weights[:, i] @ v[..., 2 * i:2 * i + 2] for i in range(2)]
    expected = mha.out_proj(torch.cat(heads, -1))
    assert torch.allclose(out, expected)
    summed = mha.out_proj(torch.cat([heads[0] + heads[1]] * 2, -1))
    assert not torch.allclose(out, summed)


def test_attention_runs_on_the_course_device():
    layer = Attention(4, 4, "additive").to(DEVICE)
    ctx, w = layer(torch.randn(2, 3, 4, device=DEVICE), torch.randn(2, 5, 4, device=DEVICE),
                   length_mask(torch.tensor([5, 2], device=DEVICE)))
    assert ctx.device.type == DEVICE.type and np.allclose(w.sum(-1).detach().cpu().numpy(), 1.0)
