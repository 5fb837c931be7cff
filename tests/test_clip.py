"""Clipping: numpy and torch versions vs torch.nn.utils.clip_grad_norm_ / clip_grad_value_, the slip."""

import numpy as np
import pytest
import torch

from utils.clip import (clip_by_global_norm, clip_by_global_norm_squared_slip, clip_by_value,
                        clip_grad_norm_, clip_grad_value_, cosine_similarity, global_norm)


def _grads(scale, seed=0):
    rng = np.random.default_rng(seed)
    return [scale * rng.normal(size=s) for s in [(4, 3), (3,), (2, 2, 2)]]


def _params_with(grads):
    params = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = torch.tensor(g)
    return params


def test_global_norm_is_the_norm_of_the_concatenation():
    g = _grads(1.0)
    assert global_norm(g) == pytest.approx(np.linalg.norm(np.concatenate([x.ravel() for x in g])))


@pytest.mark.parametrize("scale,max_norm", [(10.0, 1.0), (0.01, 1.0), (3.0, 5.0), (1e4, 0.5)])
def test_numpy_clip_by_global_norm_matches_torch(scale, max_norm):
    g = _grads(scale)
    clipped, norm = clip_by_global_norm(g, max_norm)
    params = _params_with(g)
    ref_norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
    assert norm == pytest.approx(ref_norm.item(), rel=1e-12)
    for c, p in zip(clipped, params):
        np.testing.assert_allclose(c, p.grad.numpy(), rtol=1e-12)
    assert global_norm(clipped) == pytest.approx(min(norm, max_norm), rel=1e-5)
    np.testing.assert_array_equal(g[0], _grads(scale)[0])  # inputs untouched


@pytest.mark.parametrize("scale,max_norm", [(10.0, 1.0), (0.01, 1.0), (1e4, 0.5)])
def test_torch_clip_grad_norm_matches_torch(scale, max_norm):
    g = _grads(scale)
    ours, ref = _params_with(g), _params_with(g)
    n1 = clip_grad_norm_(ours, max_norm)
    n2 = torch.nn.utils.clip_grad_norm_(ref, max_norm)
    torch.testing.assert_close(n1, n2)
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a.grad, b.grad)


def test_torch_clip_on_a_model_float32():
    torch.manual_seed(0)
    m1 = torch.nn.RNN(3, 4)
    m2 = torch.nn.RNN(3, 4)
    m2.load_state_dict(m1.state_dict())
    x = torch.randn(5, 2, 3)
    for m in (m1, m2):
        (m(x)[0] * 100).sum().backward()
    n1 = clip_grad_norm_(m1.parameters(), 1.0)
    n2 = torch.nn.utils.clip_grad_norm_(m2.parameters(), 1.0)
    torch.testing.assert_close(n1, n2)
    for a, b in zip(m1.parameters(), m2.parameters()):
        torch.testing.assert_close(a.grad, b.grad)


@pytest.mark.parametrize("clip_value", [0.1, 1.0, 100.0])
def test_clip_by_value_matches_torch(clip_value):
    g = _grads(2.0)
    params = _params_with(g)
    torch.nn.utils.clip_grad_value_(params, clip_value)
    ours = _params_with(g)
    clip_grad_value_(ours, clip_value)
    for c, p, o in zip(clip_by_value(g, clip_value), params, ours):
        np.testing.assert_array_equal(c, p.grad.numpy())
        np.testing.assert_array_equal(o.grad.numpy(), p.grad.numpy())


def test_norm_clipping_keeps_direction_value_clipping_does_not():
    g = [np.array([10.0, 0.5, -0.1])]
    by_norm, _ = clip_by_global_norm(g, 1.0)
    by_value = clip_by_value(g, 1.0)
    assert cosine_similarity(g, by_norm) == pytest.approx(1.0)
    assert cosine_similarity(g, by_value) < 0.95  # [1, 0.5, -0.1]: the small entries now weigh more


def test_squared_slip_clips_to_the_wrong_length():
    g = [np.array([60.0, 80.0])]                     # ||g|| = 100
    right, norm = clip_by_global_norm(g, 5.0)
    wrong, squared = clip_by_global_norm_squared_slip(g, 5.0)
    assert norm == pytest.approx(100.0) and squared == pytest.approx(1e4)
    assert global_norm(right) == pytest.approx(5.0, rel=1e-6)
    assert global_norm(wrong) == pytest.approx(5.0 / 100.0, rel=1e-6)   # threshold / ||g||
    small = [np.array([1.2, 1.6])]                   # ||g|| = 2 <= 5, squared = 4 <= 5: both leave it
    np.testing.assert_allclose(clip_by_global_norm_squared_slip(small, 5.0)[0][0], small[0])
    mid = [np.array([1.8, 2.4])]                     # ||g|| = 3 < 5 but squared = 9 > 5: slip clips
    assert global_norm(clip_by_global_norm(mid, 5.0)[0]) == pytest.approx(3.0)
    assert global_norm(clip_by_global_norm_squared_slip(mid, 5.0)[0]) == pytest.approx(5 / 3, rel=1e-6)
    ours = _params_with(g)
    clip_grad_norm_(ours, 5.0, squared_slip=True)
    np.testing.assert_allclose(ours[0].grad.numpy(), wrong[0])


@pytest.mark.parametrize("threshold,slip_starts", [(0.25, 0.5), (1.0, 1.0), (5.0, 5 ** 0.5)])
def test_squared_slip_starts_clipping_at_the_root_of_the_threshold(threshold, slip_starts):
    """Earlier than Algorithm 1 above a threshold of 1, at the same norm at 1, later below 1."""
    for n in (0.9 * slip_starts, 1.1 * slip_starts):
        g = [np.array([0.6 * n, 0.8 * n])]
        clipped = global_norm(clip_by_global_norm_squared_slip(g, threshold)[0]) < n * (1 - 1e-9)
        assert clipped == (n > slip_starts)
    algorithm_1 = [global_norm(clip_by_global_norm([np.array([n])], threshold)[0]) < n for n in
                   (0.9 * threshold, 1.1 * threshold)]
    assert algorithm_1 == [False, True]


def test_bad_thresholds_raise():
    with pytest.raises(ValueError):
        clip_by_global_norm(_grads(1.0), 0.0)
    with pytest.raises(ValueError):
        clip_by_value(_grads(1.0), -1.0)
