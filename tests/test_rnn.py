"""utils.rnn: every gradient checked against central differences (float64, <= 1e-7), and the
forward and gradients compared with torch ``nn.RNNCell`` / ``nn.RNN`` carrying the same weights."""

import numpy as np
import pytest
import torch

from utils.gradcheck import GradientCheckError, check_gradients
from utils.rnn import (init_rnn_params, linear_backward, linear_forward, params_from_torch,
                       rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward)

PARAMS = ("W_ih", "W_hh", "b_ih", "b_hh")


def _inputs(rng, N, T, D, H):
    p = init_rnn_params(D, H, rng=rng)
    # scale up a little so tanh is neither saturated nor linear
    p = {k: 1.5 * v for k, v in p.items()}
    return rng.standard_normal((N, T, D)), rng.standard_normal((N, H)), p


# --------------------------------------------------------------------------- gradient checks

@pytest.mark.parametrize("N,D,H", [(3, 4, 5), (1, 2, 3), (1, 1, 1)])
def test_step_backward_gradcheck(N, D, H):
    rng = np.random.default_rng(0)
    x, h0, p = _inputs(rng, N, 1, D, H)
    x = x[:, 0]
    next_h, cache = rnn_step_forward(x, h0, **p)
    dnext = rng.standard_normal(next_h.shape)
    dx, dprev, dW_ih, dW_hh, db_ih, db_hh = rnn_step_backward(dnext, cache)
    errs = check_gradients(lambda **kw: rnn_step_forward(**kw)[0],
                           {"x": x, "prev_h": h0, **p},
                           {"x": dx, "prev_h": dprev, "W_ih": dW_ih, "W_hh": dW_hh,
                            "b_ih": db_ih, "b_hh": db_hh}, dnext)
    assert max(errs.values()) <= 1e-7


@pytest.mark.parametrize("N,T,D,H", [(2, 5, 3, 4), (1, 1, 3, 4), (3, 1, 2, 2), (1, 7, 1, 3)])
def test_sequence_backward_gradcheck(N, T, D, H):
    rng = np.random.default_rng(1)
    x, h0, p = _inputs(rng, N, T, D, H)
    h, cache = rnn_forward(x, h0, **p)
    assert h.shape == (N, T, H)
    dh = rng.standard_normal(h.shape)
    dx, dh0, dW_ih, dW_hh, db_ih, db_hh = rnn_backward(dh, cache)
    errs = check_gradients(lambda **kw: rnn_forward(**kw)[0],
                           {"x": x, "h0": h0, **p},
                           {"x": dx, "h0": dh0, "W_ih": dW_ih, "W_hh": dW_hh,
                            "b_ih": db_ih, "b_hh": db_hh}, dh)
    assert max(errs.values()) <= 1e-7


def test_linear_gradcheck_sequence_and_flat():
    rng = np.random.default_rng(2)
    for shape in [(2, 3, 4), (5, 4)]:
        h = rng.standard_normal(shape)
        W, b = rng.standard_normal((6, 4)), rng.standard_normal(6)
        y, cache = linear_forward(h, W, b)
        dy = rng.standard_normal(y.shape)
        dh, dW, db = linear_backward(dy, cache)
        check_gradients(lambda h, W, b: linear_forward(h, W, b)[0], {"h": h, "W": W, "b": b},
                        {"h": dh, "W": dW, "b": db}, dy)


def test_shared_weight_gradient_is_sum_over_steps():
    rng = np.random.default_rng(3)
    x, h0, p = _inputs(rng, 2, 4, 3, 5)
    h, cache = rnn_forward(x, h0, **p)
    dh = rng.standard_normal(h.shape)
    _, _, _, dW_hh, _, _ = rnn_backward(dh, cache)
    total, carry = np.zeros_like(dW_hh), np.zeros((2, 5))
    for t in reversed(range(4)):
        _, carry, _, dW_t, _, _ = rnn_step_backward(dh[:, t] + carry, cache[t])
        total += dW_t
    np.testing.assert_allclose(dW_hh, total, rtol=1e-12, atol=1e-12)


def test_a_wrong_gradient_is_caught():
    rng = np.random.default_rng(4)
    x, h0, p = _inputs(rng, 2, 3, 2, 3)
    h, cache = rnn_forward(x, h0, **p)
    dh = rng.standard_normal(h.shape)
    grads = dict(zip(("x", "h0", *PARAMS), rnn_backward(dh, cache)))
    grads["W_hh"] = grads["W_hh"].T  # the classic transpose bug
    with pytest.raises(GradientCheckError, match="W_hh"):
        check_gradients(lambda **kw: rnn_forward(**kw)[0], {"x": x, "h0": h0, **p}, grads, dh)


# --------------------------------------------------------------------------- torch parity

@pytest.mark.parametrize("N,D,H", [(3, 4, 5), (1, 1, 2)])
def test_step_matches_torch_rnncell(N, D, H):
    torch.manual_seed(0)
    cell = torch.nn.RNNCell(D, H).double()
    p = params_from_torch(cell)
    rng = np.random.default_rng(5)
    x, h0, dnext = rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H))

    next_h, cache = rnn_step_forward(x, h0, **p)
    ours = rnn_step_backward(dnext, cache)

    xt = torch.tensor(x, requires_grad=True)
    ht = torch.tensor(h0, requires_grad=True)
    out = cell(xt, ht)
    out.backward(torch.tensor(dnext))
    np.testing.assert_allclose(next_h, out.detach().numpy(), rtol=1e-12, atol=1e-12)
    theirs = [xt.grad, ht.grad, cell.weight_ih.grad, cell.weight_hh.grad, cell.bias_ih.grad, cell.bias_hh.grad]
    for name, a, b in zip(("dx", "dprev_h", *("d" + k for k in PARAMS)), ours, theirs):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("N,T,D,H", [(2, 6, 3, 4), (1, 1, 2, 3), (1, 9, 1, 2), (4, 1, 3, 3)])
def test_sequence_matches_torch_rnn(N, T, D, H):
    torch.manual_seed(1)
    rnn = torch.nn.RNN(D, H, batch_first=True).double()
    p = params_from_torch(rnn)
    rng = np.random.default_rng(6)
    x, h0, dh = rng.standard_normal((N, T, D)), rng.standard_normal((N, H)), rng.standard_normal((N, T, H))
    dh_n = rng.standard_normal((N, H))  # a gradient arriving at the final state as well

    h, cache = rnn_forward(x, h0, **p)
    dh_total = dh.copy()
    dh_total[:, -1] += dh_n
    ours = rnn_backward(dh_total, cache)

    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0[None], requires_grad=True)  # torch wants (num_layers, N, H)
    out, h_n = rnn(xt, h0t)
    torch.autograd.backward([out, h_n], [torch.tensor(dh), torch.tensor(dh_n[None])])
    np.testing.assert_allclose(h, out.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h[:, -1], h_n[0].detach().numpy(), rtol=1e-12, atol=1e-12)
    theirs = [xt.grad, h0t.grad[0], rnn.weight_ih_l0.grad, rnn.weight_hh_l0.grad,
              rnn.bias_ih_l0.grad, rnn.bias_hh_l0.grad]
    for name, a, b in zip(("dx", "dh0", *("d" + k for k in PARAMS)), ours, theirs):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


def test_params_from_torch_layer_and_errors():
    rnn = torch.nn.RNN(3, 4, num_layers=2).double()
    p1 = params_from_torch(rnn, layer=1)
    assert p1["W_ih"].shape == (4, 4) and p1["W_hh"].shape == (4, 4)
    np.testing.assert_array_equal(p1["W_hh"], rnn.weight_hh_l1.detach().numpy())
    with pytest.raises(ValueError, match="relu"):
        params_from_torch(torch.nn.RNN(3, 4, nonlinearity="relu"))
    with pytest.raises(ValueError, match="bias"):
        params_from_torch(torch.nn.RNNCell(3, 4, bias=False))


def test_init_matches_torch_scale_and_shapes():
    p = init_rnn_params(3, 16, output_size=7, rng=np.random.default_rng(0))
    assert {k: v.shape for k, v in p.items()} == {
        "W_ih": (16, 3), "W_hh": (16, 16), "b_ih": (16,), "b_hh": (16,), "W_hy": (7, 16), "b_y": (7,)}
    assert all(np.abs(v).max() <= 0.25 for v in p.values())
    assert all(v.dtype == np.float64 for v in p.values())
    assert init_rnn_params(2, 3, dtype=np.float32)["W_hh"].dtype == np.float32


def test_forward_rejects_time_first_2d_input():
    p = init_rnn_params(3, 4)
    with pytest.raises(ValueError, match="batch-first"):
        rnn_forward(np.zeros((5, 3)), np.zeros((5, 4)), **p)


def test_float32_stays_float32():
    p = init_rnn_params(3, 4, dtype=np.float32)
    x = np.zeros((2, 3, 3), np.float32)
    h, cache = rnn_forward(x, np.zeros((2, 4), np.float32), **p)
    assert h.dtype == np.float32
    grads = rnn_backward(np.ones_like(h), cache)
    assert all(g.dtype == np.float32 for g in grads)


# --------------------------------------------------------------------------- truncated BPTT

@pytest.mark.parametrize("T,k", [(7, 3), (6, 3), (5, 1), (4, 4), (4, 10), (1, 1)])
def test_truncated_backward_equals_chunks_with_carried_state(T, k):
    """Cutting the flow every k steps == running k-step chunks from the previous chunk's last state."""
    rng = np.random.default_rng(7)
    N, D, H = 2, 3, 4
    x, h0, p = _inputs(rng, N, T, D, H)
    dh = rng.standard_normal((N, T, H))
    h, cache = rnn_forward(x, h0, **p)
    got = rnn_backward(dh, cache, truncate=k)

    dx = np.zeros_like(x)
    sums = [np.zeros_like(p[n]) for n in PARAMS]
    prev, dh0 = h0, None
    for s in range(0, T, k):
        hc, cc = rnn_forward(x[:, s:s + k], prev, **p)
        gx, gh0, *gp = rnn_backward(dh[:, s:s + k], cc)
        dx[:, s:s + k] = gx
        dh0 = gh0 if s == 0 else dh0
        sums = [a + b for a, b in zip(sums, gp)]
        prev = hc[:, -1]  # carried forward; in numpy nothing flows back through it
    np.testing.assert_allclose(h[:, -1], prev, rtol=1e-12, atol=1e-12)
    for name, a, b in zip(("dx", "dh0", *PARAMS), got, [dx, dh0, *sums]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=name)


def test_truncation_at_or_beyond_T_is_full_bptt_and_k_must_be_positive():
    rng = np.random.default_rng(8)
    x, h0, p = _inputs(rng, 2, 5, 3, 4)
    h, cache = rnn_forward(x, h0, **p)
    dh = rng.standard_normal(h.shape)
    for a, b in zip(rnn_backward(dh, cache), rnn_backward(dh, cache, truncate=5)):
        np.testing.assert_array_equal(a, b)
    full, cut = rnn_backward(dh, cache)[3], rnn_backward(dh, cache, truncate=2)[3]
    assert not np.allclose(full, cut)
    with pytest.raises(ValueError, match="truncate"):
        rnn_backward(dh, cache, truncate=0)


def test_truncated_backward_matches_torch_detach():
    """numpy truncation == torch TBPTT with detach() between chunks (float64)."""
    torch.manual_seed(2)
    N, T, D, H, k = 2, 7, 3, 4, 3
    rnn = torch.nn.RNN(D, H, batch_first=True).double()
    p = params_from_torch(rnn)
    rng = np.random.default_rng(9)
    x, h0, dh = rng.standard_normal((N, T, D)), rng.standard_normal((N, H)), rng.standard_normal((N, T, H))
    _, cache = rnn_forward(x, h0, **p)
    ours = rnn_backward(dh, cache, truncate=k)

    h = torch.tensor(h0[None])
    for s in range(0, T, k):
        out, h = rnn(torch.tensor(x[:, s:s + k]), h)
        out.backward(torch.tensor(dh[:, s:s + k]))  # gradients accumulate in .grad across chunks
        h = h.detach()
    theirs = [rnn.weight_ih_l0.grad, rnn.weight_hh_l0.grad, rnn.bias_ih_l0.grad, rnn.bias_hh_l0.grad]
    for name, a, b in zip(PARAMS, ours[2:], theirs):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
