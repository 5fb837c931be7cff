"""utils.lstm: the numpy cell against finite differences, the numpy and torch cells against nn.LSTMCell / nn.LSTM."""

import numpy as np
import pytest
import torch

from utils.gradcheck import check_gradients, rel_error
from utils.lstm import (from_ifog, init_lstm_params, lstm_backward, lstm_cell, lstm_forward, lstm_layer,
                        lstm_params_from_torch, lstm_step_backward, lstm_step_forward, reorder_gates, sigmoid,
                        split_gates)

N, T, D, H = 3, 5, 4, 6
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def inputs(seed=0):
    rng = np.random.default_rng(seed)
    p = init_lstm_params(D, H, rng=rng)
    return rng.normal(size=(N, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H)), p


def test_step_forward_follows_the_equations_gate_by_gate():
    x, h, c, p = inputs()
    next_h, next_c, _ = lstm_step_forward(x, h, c, **p)
    a = split_gates(x @ p["W_ih"].T + p["b_ih"] + h @ p["W_hh"].T + p["b_hh"])
    i, f, g, o = sigmoid(a["i"]), sigmoid(a["f"]), np.tanh(a["g"]), sigmoid(a["o"])
    assert np.allclose(next_c, f * c + i * g) and np.allclose(next_h, o * np.tanh(f * c + i * g))


def test_step_backward_matches_finite_differences():
    x, h, c, p = inputs(1)
    next_h, next_c, cache = lstm_step_forward(x, h, c, **p)
    rng = np.random.default_rng(2)
    dh, dc = rng.normal(size=next_h.shape), rng.normal(size=next_c.shape)
    dx, dprev_h, dprev_c, dW_ih, dW_hh, db_ih, db_hh = lstm_step_backward(dh, dc, cache)

    def f(x, prev_h, prev_c, W_ih, W_hh, b_ih, b_hh):
        nh, nc, _ = lstm_step_forward(x, prev_h, prev_c, W_ih, W_hh, b_ih, b_hh)
        return np.sum(nh * dh) + np.sum(nc * dc)

    check_gradients(f, dict(x=x, prev_h=h, prev_c=c, **p),
                    dict(x=dx, prev_h=dprev_h, prev_c=dprev_c, W_ih=dW_ih, W_hh=dW_hh, b_ih=db_ih, b_hh=db_hh))


def test_sequence_backward_matches_finite_differences_including_dc_n():
    rng = np.random.default_rng(3)
    p = init_lstm_params(D, H, rng=rng)
    x, h0, c0 = rng.normal(size=(2, 4, D)), rng.normal(size=(2, H)), rng.normal(size=(2, H))
    h, c, cache = lstm_forward(x, h0, c0, **p)
    dh, dc_n = rng.normal(size=h.shape), rng.normal(size=(2, H))
    grads = lstm_backward(dh, cache, dc_n=dc_n)

    def f(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
        hs, cs, _ = lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh)
        return np.sum(hs * dh) + np.sum(cs[:, -1] * dc_n)

    names = ["x", "h0", "c0", "W_ih", "W_hh", "b_ih", "b_hh"]
    check_gradients(f, dict(x=x, h0=h0, c0=c0, **p), dict(zip(names, grads)))


def test_cell_path_jacobian_is_diag_f():
    # With the gates held fixed (the direct path only), dc_{t-1} = f * dc_t.
    x, h, c, p = inputs(4)
    _, _, cache = lstm_step_forward(x, h, c, **p)
    dc = np.ones((N, H))
    _, _, dprev_c, *_ = lstm_step_backward(np.zeros((N, H)), dc, cache)
    f = cache[6]
    assert np.allclose(dprev_c, f)


def test_forget_bias_initialisation_shifts_only_the_forget_block():
    a = init_lstm_params(D, H, rng=np.random.default_rng(0))
    b = init_lstm_params(D, H, rng=np.random.default_rng(0), forget_bias=1.0)
    diff = b["b_ih"] - a["b_ih"]
    assert np.allclose(diff[H:2 * H], 1.0) and np.allclose(np.delete(diff, np.s_[H:2 * H]), 0.0)


def test_numpy_matches_nn_lstm_outputs_and_every_gradient():
    torch.manual_seed(0)
    ref = torch.nn.LSTM(D, H, batch_first=True).double()
    p = lstm_params_from_torch(ref)
    rng = np.random.default_rng(5)
    x, h0, c0 = rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    h, c, cache = lstm_forward(x, h0, c0, **p)
    xt = torch.tensor(x, requires_grad=True)
    h0t, c0t = (torch.tensor(a[None], requires_grad=True) for a in (h0, c0))
    out, (hn, cn) = ref(xt, (h0t, c0t))
    assert rel_error(h, out.detach().numpy()) < 1e-10 and rel_error(c[:, -1], cn[0].detach().numpy()) < 1e-10
    dh, dcn = rng.normal(size=h.shape), rng.normal(size=(N, H))
    (out * torch.tensor(dh)).sum().add((cn[0] * torch.tensor(dcn)).sum()).backward()
    dx, dh0, dc0, dW_ih, dW_hh, db_ih, db_hh = lstm_backward(dh, cache, dc_n=dcn)
    torch_grads = [xt.grad, h0t.grad[0], c0t.grad[0], ref.weight_ih_l0.grad, ref.weight_hh_l0.grad,
                   ref.bias_ih_l0.grad, ref.bias_hh_l0.grad]
    for name, ours, theirs in zip(["dx", "dh0", "dc0", "dW_ih", "dW_hh", "db_ih", "db_hh"],
                                  [dx, dh0, dc0, dW_ih, dW_hh, db_ih, db_hh], torch_grads):
        assert rel_error(ours, theirs.numpy()) < 1e-6, name


@pytest.mark.parametrize("device", DEVICES)
def test_torch_cell_matches_nn_lstmcell_outputs_and_gradients(device):
    torch.manual_seed(1)
    ref = torch.nn.LSTMCell(D, H).double().to(device)
    x = torch.randn(N, D, dtype=torch.float64, device=device)
    h, c = torch.randn(N, H, dtype=torch.float64, device=device), torch.randn(N, H, dtype=torch.float64, device=device)
    theirs = ref(x, (h, c))
    ours = lstm_cell(x, (h, c), ref.weight_ih, ref.weight_hh, ref.bias_ih, ref.bias_hh)
    for a, b in zip(ours, theirs):
        assert torch.allclose(a, b, atol=1e-12)
    params = list(ref.parameters())
    g_ours = torch.autograd.grad(sum(t.sum() * (k + 1) for k, t in enumerate(ours)), params)
    g_theirs = torch.autograd.grad(sum(t.sum() * (k + 1) for k, t in enumerate(theirs)), params)
    for a, b in zip(g_ours, g_theirs):
        assert rel_error(a.cpu().numpy(), b.cpu().numpy()) < 1e-6


@pytest.mark.parametrize("device", DEVICES)
def test_torch_layer_matches_nn_lstm_float64(device):
    torch.manual_seed(2)
    ref = torch.nn.LSTM(D, H, batch_first=True).double().to(device)
    x = torch.randn(N, T, D, dtype=torch.float64, device=device, requires_grad=True)
    h0 = torch.randn(1, N, H, dtype=torch.float64, device=device, requires_grad=True)
    c0 = torch.randn(1, N, H, dtype=torch.float64, device=device, requires_grad=True)
    out, (hn, cn) = ref(x, (h0, c0))
    ours, (h_n, c_n) = lstm_layer(x, (h0[0], c0[0]), ref.weight_ih_l0, ref.weight_hh_l0, ref.bias_ih_l0,
                                  ref.bias_hh_l0)
    assert torch.allclose(ours, out, atol=1e-12) and torch.allclose(h_n, hn[0]) and torch.allclose(c_n, cn[0])
    wrt = [x, h0, c0, *ref.parameters()]
    weights = torch.linspace(-1, 1, out.numel(), dtype=torch.float64, device=device).view_as(out)
    g_theirs = torch.autograd.grad((out * weights).sum() + cn.sum(), wrt)
    g_ours = torch.autograd.grad((ours * weights).sum() + c_n.sum(), wrt)
    for a, b in zip(g_ours, g_theirs):
        assert rel_error(a.cpu().numpy(), b.cpu().numpy()) < 1e-6


def test_reorder_gates_moves_blocks_and_round_trips():
    W = np.repeat(np.arange(4)[:, None], 2, axis=0) * np.ones((8, 3))   # block k is all k, H = 2
    moved = reorder_gates(W, "ifog", "ifgo")
    assert moved[:, 0].tolist() == [0, 0, 1, 1, 3, 3, 2, 2]
    assert np.array_equal(reorder_gates(moved, "ifgo", "ifog"), W)
    assert torch.equal(reorder_gates(torch.tensor(W), "ifog"), torch.tensor(moved))
    with pytest.raises(ValueError, match="same gates"):
        reorder_gates(W, "ifog", "ifgz")


def test_from_ifog_converts_a_cs231n_cell_to_torch_layout():
    # A CS231n-style step: a = x @ Wx + h @ Wh + b, gates i, f, o, g.
    rng = np.random.default_rng(7)
    Wx, Wh, b = rng.normal(size=(D, 4 * H)), rng.normal(size=(H, 4 * H)), rng.normal(size=4 * H)
    x, h, c = rng.normal(size=(N, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    a = x @ Wx + h @ Wh + b
    i, f, o, g = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])
    c_theirs = f * c + i * g
    h_theirs = o * np.tanh(c_theirs)
    next_h, next_c, _ = lstm_step_forward(x, h, c, **from_ifog(Wx, Wh, b))
    assert np.allclose(next_h, h_theirs) and np.allclose(next_c, c_theirs)


def test_bad_inputs_say_what_is_wrong():
    x, h, c, p = inputs()
    with pytest.raises(ValueError, match=r"W_hh must be \(4H, H\)"):
        lstm_step_forward(x, h[:, :3], c[:, :3], **p)
    with pytest.raises(ValueError, match="batch-first"):
        lstm_forward(x, h, c, **p)
    with pytest.raises(ValueError, match="nn.LSTM or nn.LSTMCell"):
        lstm_params_from_torch(torch.nn.GRU(2, 3))
    with pytest.raises(ValueError, match="multiple of 4 gates"):
        split_gates(np.zeros((2, 7)))


def test_trace_records_the_gates_of_the_step_function():
    from utils.lstm import lstm_trace

    rng = np.random.default_rng(8)
    p = init_lstm_params(D, H, rng=rng)
    x = rng.normal(size=(T, D))
    tr = lstm_trace(x, **p)
    h, c, _ = lstm_forward(x[None], np.zeros((1, H)), np.zeros((1, H)), **p)
    assert np.allclose(tr["h"], h[0]) and np.allclose(tr["c"], c[0])
    assert np.allclose(tr["c"][1:], tr["f"][1:] * tr["c"][:-1] + tr["i"][1:] * tr["g"][1:])
    assert ((tr["i"] > 0) & (tr["i"] < 1)).all() and (np.abs(tr["g"]) < 1).all()


def test_state_gradients_vanish_for_the_rnn_and_survive_on_the_lstm_cell_path():
    from utils.lstm import state_gradient_norms

    rnn = state_gradient_norms("rnn", 60, seed=0)
    lstm = state_gradient_norms("lstm", 60, forget_bias=5.0, seed=0)
    assert rnn["h0"].shape == (60,) and set(lstm) == {"T", "h0", "c0"}
    assert rnn["h0"][-1] < 1e-3 * rnn["h0"][0]
    assert lstm["c0"][-1] > 1e-2 * lstm["c0"][0]
    with pytest.raises(ValueError, match="LSTM only"):
        state_gradient_norms("rnn", 5, forget_bias=1.0)
