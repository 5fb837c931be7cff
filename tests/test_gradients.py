"""Gradient flow through time: Jacobians and backward norms vs torch autograd and utils.rnn."""

import numpy as np
import pytest
import torch

from utils import rnn
from utils.gradients import (backward_norms, forward_states, gradient_norms_through_time,
                             largest_singular_value, recurrent_matrix, spectral_radius, step_jacobian)


@pytest.mark.parametrize("by", ["spectral radius", "singular value"])
@pytest.mark.parametrize("kind", ["gaussian", "orthogonal"])
def test_recurrent_matrix_has_the_requested_scale(by, kind):
    W = recurrent_matrix(16, 1.3, by=by, kind=kind, rng=np.random.default_rng(1))
    measured = spectral_radius(W) if by == "spectral radius" else largest_singular_value(W)
    assert measured == pytest.approx(1.3)
    assert spectral_radius(W) <= largest_singular_value(W) + 1e-12  # always ρ <= σ_max


@pytest.mark.parametrize("nonlinearity", ["tanh", "linear", "relu"])
def test_step_jacobian_matches_autograd(nonlinearity):
    rng = np.random.default_rng(0)
    H = 5
    W = rng.normal(size=(H, H)) / 2
    x = rng.normal(size=(1, H))
    h, fprime = forward_states(W, 1, nonlinearity, x=x, W_ih=np.eye(H), h0=rng.normal(size=H))
    act = {"tanh": torch.tanh, "linear": lambda a: a, "relu": torch.relu}[nonlinearity]
    J = torch.autograd.functional.jacobian(
        lambda hp: act(hp @ torch.tensor(W).T + torch.tensor(x[0])), torch.tensor(h[0]))
    np.testing.assert_allclose(step_jacobian(W, fprime[1]), J.numpy(), rtol=1e-10, atol=1e-12)


def test_linear_case_is_a_matrix_power():
    W = recurrent_matrix(6, 0.9, kind="gaussian", rng=np.random.default_rng(2))
    T = 7
    _, fprime = forward_states(W, T, "linear")
    g = np.linspace(1, -1, 6)
    norms = backward_norms(W, fprime, g)
    for k in range(T + 1):
        assert norms[k] == pytest.approx(np.linalg.norm(np.linalg.matrix_power(W, T - k).T @ g))


def test_orthogonal_linear_norms_are_exactly_geometric():
    W = recurrent_matrix(8, 1.1, kind="orthogonal")
    norms = gradient_norms_through_time(W, 20, "linear")
    np.testing.assert_allclose(norms, 1.1 ** (20 - np.arange(21)))


def test_backward_norms_match_utils_rnn_bptt():
    """The tanh case is utils.rnn's BPTT with the loss on h_T only."""
    rng = np.random.default_rng(3)
    H, T = 4, 6
    W = recurrent_matrix(H, 1.5, rng=rng)
    x = rng.normal(size=(T, H))
    h, fprime = forward_states(W, T, "tanh", x=x, W_ih=np.eye(H))
    zeros = np.zeros(H)
    hs, cache = rnn.rnn_forward(x[None], h[0][None], np.eye(H), W, zeros, zeros)
    np.testing.assert_allclose(hs[0], h[1:], rtol=1e-12)
    g = np.linspace(1, 2, H)
    norms = backward_norms(W, fprime, g)
    dh = np.zeros((1, T, H))
    dh[0, -1] = g
    dx, dh0, *_ = rnn.rnn_backward(dh, cache)
    assert norms[0] == pytest.approx(np.linalg.norm(dh0))
    for t in range(T):                      # dx_t = ∂L/∂a_t; ∂L/∂h_{t-1} = dx_t @ W_hh
        assert norms[t] == pytest.approx(np.linalg.norm(dx[0, t] @ W))


def test_tanh_never_grows_faster_than_sigma_max():
    W = recurrent_matrix(10, 2.0, by="singular value", rng=np.random.default_rng(4))
    norms = gradient_norms_through_time(W, 30, "tanh")
    ratios = norms[:-1] / norms[1:]
    assert np.all(ratios <= 2.0 + 1e-9)


def test_small_sigma_vanishes_large_radius_explodes_linearly():
    small = gradient_norms_through_time(recurrent_matrix(10, 0.8, by="singular value"), 50, "tanh")
    assert small[0] < 0.8 ** 50 * 1.0001
    big = gradient_norms_through_time(recurrent_matrix(10, 1.2, kind="orthogonal"), 50, "linear")
    assert big[0] == pytest.approx(1.2 ** 50)
