"""utils.gru: numpy GRU against finite differences and nn.GRU/nn.GRUCell; the paper's variant; MUT1-3."""

import numpy as np
import pytest
import torch

from utils.gradcheck import check_gradients, rel_error
from utils.gru import (MUTCell, flip_update_gate, gru_backward, gru_cell, gru_forward, gru_layer,
                       gru_params_from_torch, gru_step_backward, gru_step_forward, init_gru_params)
from utils.lstm import sigmoid

N, T, D, H = 3, 5, 4, 6
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
VARIANTS = [("after", "keep"), ("before", "keep"), ("after", "write"), ("before", "write")]


def inputs(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(N, D)), rng.normal(size=(N, H)), init_gru_params(D, H, rng=rng)


def test_step_forward_is_torchs_equations():
    x, h, p = inputs()
    gi, gh = x @ p["W_ih"].T + p["b_ih"], h @ p["W_hh"].T + p["b_hh"]
    r, z = sigmoid(gi[:, :H] + gh[:, :H]), sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
    n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
    assert np.allclose(gru_step_forward(x, h, **p)[0], (1 - z) * n + z * h)


@pytest.mark.parametrize("reset,update", VARIANTS)
def test_step_backward_matches_finite_differences(reset, update):
    x, h, p = inputs(1)
    out, cache = gru_step_forward(x, h, **p, reset=reset, update=update)
    dout = np.random.default_rng(2).normal(size=out.shape)
    dx, dh, dW_ih, dW_hh, db_ih, db_hh = gru_step_backward(dout, cache)
    f = lambda x, prev_h, W_ih, W_hh, b_ih, b_hh: gru_step_forward(x, prev_h, W_ih, W_hh, b_ih, b_hh, reset, update)[0]  # noqa: E731
    check_gradients(f, dict(x=x, prev_h=h, **p),
                    dict(x=dx, prev_h=dh, W_ih=dW_ih, W_hh=dW_hh, b_ih=db_ih, b_hh=db_hh), dout)


def test_sequence_backward_matches_finite_differences():
    rng = np.random.default_rng(3)
    p = init_gru_params(D, H, rng=rng)
    x, h0 = rng.normal(size=(2, 4, D)), rng.normal(size=(2, H))
    h, cache = gru_forward(x, h0, **p)
    dh = rng.normal(size=h.shape)
    grads = gru_backward(dh, cache)
    f = lambda x, h0, W_ih, W_hh, b_ih, b_hh: gru_forward(x, h0, W_ih, W_hh, b_ih, b_hh)[0]  # noqa: E731
    check_gradients(f, dict(x=x, h0=h0, **p), dict(zip(["x", "h0", "W_ih", "W_hh", "b_ih", "b_hh"], grads)), dh)


def test_numpy_matches_nn_gru_outputs_and_every_gradient():
    torch.manual_seed(0)
    ref = torch.nn.GRU(D, H, batch_first=True).double()
    p = gru_params_from_torch(ref)
    rng = np.random.default_rng(4)
    x, h0 = rng.normal(size=(N, T, D)), rng.normal(size=(N, H))
    h, cache = gru_forward(x, h0, **p)
    xt, h0t = torch.tensor(x, requires_grad=True), torch.tensor(h0[None], requires_grad=True)
    out, _ = ref(xt, h0t)
    assert rel_error(h, out.detach().numpy()) < 1e-10
    dh = rng.normal(size=h.shape)
    (out * torch.tensor(dh)).sum().backward()
    ours = gru_backward(dh, cache)
    theirs = [xt.grad, h0t.grad[0], ref.weight_ih_l0.grad, ref.weight_hh_l0.grad, ref.bias_ih_l0.grad,
              ref.bias_hh_l0.grad]
    for name, a, b in zip(["dx", "dh0", "dW_ih", "dW_hh", "db_ih", "db_hh"], ours, theirs):
        assert rel_error(a, b.numpy()) < 1e-6, name


@pytest.mark.parametrize("device", DEVICES)
def test_torch_cell_and_layer_match_nn_grucell_and_nn_gru(device):
    torch.manual_seed(1)
    cell = torch.nn.GRUCell(D, H).double().to(device)
    x = torch.randn(N, D, dtype=torch.float64, device=device)
    h = torch.randn(N, H, dtype=torch.float64, device=device)
    ours = gru_cell(x, h, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    theirs = cell(x, h)
    assert torch.allclose(ours, theirs, atol=1e-12)
    for a, b in zip(torch.autograd.grad(ours.pow(2).sum(), list(cell.parameters())),
                    torch.autograd.grad(theirs.pow(2).sum(), list(cell.parameters()))):
        assert rel_error(a.cpu().numpy(), b.cpu().numpy()) < 1e-6
    ref = torch.nn.GRU(D, H, batch_first=True).double().to(device)
    xs = torch.randn(N, T, D, dtype=torch.float64, device=device, requires_grad=True)
    out, hn = ref(xs)
    ours, h_n = gru_layer(xs, None, ref.weight_ih_l0, ref.weight_hh_l0, ref.bias_ih_l0, ref.bias_hh_l0)
    assert torch.allclose(ours, out, atol=1e-12) and torch.allclose(h_n, hn[0], atol=1e-12)
    wrt = [xs, *ref.parameters()]
    for a, b in zip(torch.autograd.grad(ours.sin().sum(), wrt), torch.autograd.grad(out.sin().sum(), wrt)):
        assert rel_error(a.cpu().numpy(), b.cpu().numpy()) < 1e-6


def test_write_convention_with_flipped_z_weights_is_torchs_gru():
    x, h, p = inputs(5)
    torch_form = gru_step_forward(x, h, **p)[0]
    assert not np.allclose(gru_step_forward(x, h, **p, update="write")[0], torch_form)
    assert np.allclose(gru_step_forward(x, h, **flip_update_gate(p), update="write")[0], torch_form)
    assert np.allclose(flip_update_gate(flip_update_gate(p))["W_hh"], p["W_hh"])


def test_paper_reset_is_a_different_model_that_agrees_when_r_is_one():
    x, h, p = inputs(6)
    assert not np.allclose(gru_step_forward(x, h, **p, reset="before")[0], gru_step_forward(x, h, **p)[0])
    q = {k: v.copy() for k, v in p.items()}
    q["b_ih"][:H] = 50.0                                          # r = sigmoid(50) = 1
    assert np.allclose(gru_step_forward(x, h, **q, reset="before")[0], gru_step_forward(x, h, **q)[0])


def test_numpy_paper_variant_matches_its_torch_twin():
    x, h, p = inputs(7)
    tp = {k: torch.tensor(v) for k, v in p.items()}
    ours = gru_cell(torch.tensor(x), torch.tensor(h), tp["W_ih"], tp["W_hh"], tp["b_ih"], tp["b_hh"], reset="before")
    assert np.allclose(ours.numpy(), gru_step_forward(x, h, **p, reset="before")[0], atol=1e-12)


@pytest.mark.parametrize("variant", ["MUT1", "MUT2", "MUT3"])
def test_mut_cells_follow_jozefowicz_equations(variant):
    torch.manual_seed(0)
    cell = MUTCell(H, H, variant).double()
    x, h = torch.randn(N, H, dtype=torch.float64), torch.randn(N, H, dtype=torch.float64)
    W = {name: getattr(cell, name) for name in ("W_xz", "W_hz", "W_xr", "W_hr", "W_hh", "W_xh")}
    sig = torch.sigmoid
    if variant == "MUT1":
        z = sig(W["W_xz"](x))
        r = sig(W["W_xr"](x) + W["W_hr"](h))
        want = torch.tanh(W["W_hh"](r * h) + torch.tanh(x)) * z + h * (1 - z)
    elif variant == "MUT2":
        z = sig(W["W_xz"](x) + W["W_hz"](h))
        r = sig(x + W["W_hr"](h))
        want = torch.tanh(W["W_hh"](r * h) + W["W_xh"](x)) * z + h * (1 - z)
    else:
        z = sig(W["W_xz"](x) + W["W_hz"](torch.tanh(h)))
        r = sig(W["W_xr"](x) + W["W_hr"](h))
        want = torch.tanh(W["W_hh"](r * h) + W["W_xh"](x)) * z + h * (1 - z)
    assert torch.allclose(cell(x, h), want)
    # and z = 0 keeps the state: push the update gate's bias far negative
    with torch.no_grad():
        cell.W_xz.bias.fill_(-60.0)
    assert torch.allclose(cell(x, h), h, atol=1e-12)


def test_bad_arguments_are_named():
    x, h, p = inputs()
    with pytest.raises(ValueError, match="reset must be"):
        gru_step_forward(x, h, **p, reset="middle")
    with pytest.raises(ValueError, match="update must be"):
        gru_cell(torch.zeros(1, D), torch.zeros(1, H), *(torch.tensor(v) for v in p.values()), update="z")
    with pytest.raises(ValueError, match="input_size == hidden_size"):
        MUTCell(3, 4, "MUT1")
    with pytest.raises(ValueError, match="MUT1, MUT2 or MUT3"):
        MUTCell(3, 3, "MUT4")
