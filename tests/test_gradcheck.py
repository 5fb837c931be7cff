import numpy as np
import pytest
import torch

from utils.gradcheck import GradientCheckError, check_gradients, numerical_gradient, rel_error


def affine_tanh(x, W, b):
    return np.tanh(x @ W + b)


def affine_tanh_backward(dout, x, W, b):
    dz = dout * (1 - affine_tanh(x, W, b) ** 2)
    return dz @ W.T, x.T @ dz, dz.sum(0)


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    x, W, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 5)), rng.normal(size=5)
    dout = rng.normal(size=(3, 5))
    return x, W, b, dout


def test_rel_error_definition():
    assert rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert rel_error([1.0], [3.0]) == pytest.approx(0.5)
    assert rel_error([0.0], [0.0]) == 0.0
    with pytest.raises(ValueError, match="shapes differ"):
        rel_error(np.zeros(2), np.zeros(3))


def test_numerical_gradient_matches_torch_autograd(problem):
    x, W, b, dout = problem
    num = numerical_gradient(lambda w: affine_tanh(x, w, b), W, dout)
    Wt = torch.tensor(W, requires_grad=True)
    torch.tanh(torch.tensor(x) @ Wt + torch.tensor(b)).backward(torch.tensor(dout))
    assert rel_error(num, Wt.grad.numpy()) < 1e-8


def test_input_is_not_modified_and_float32_is_promoted(problem):
    x, W, b, dout = problem
    W32 = W.astype(np.float32)
    before = W32.copy()
    grad = numerical_gradient(lambda w: affine_tanh(x, w, b), W32, dout)
    assert grad.dtype == np.float64
    np.testing.assert_array_equal(W32, before)


def test_correct_gradients_pass_at_1e7(problem):
    x, W, b, dout = problem
    dx, dW, db = affine_tanh_backward(dout, x, W, b)
    errors = check_gradients(affine_tanh, {"x": x, "W": W, "b": b}, {"x": dx, "W": dW, "b": db}, dout)
    assert set(errors) == {"x", "W", "b"} and max(errors.values()) < 1e-7


def test_wrong_gradient_fails_naming_it_and_its_worst_entry(problem):
    x, W, b, dout = problem
    dx, dW, db = affine_tanh_backward(dout, x, W, b)
    dW_wrong = dW.copy()
    dW_wrong[2, 1] += 0.5
    with pytest.raises(GradientCheckError, match=r"gradient 'W' is wrong.*Worst entry W\[2, 1\]"):
        check_gradients(affine_tanh, {"x": x, "W": W, "b": b}, {"x": dx, "W": dW_wrong, "b": db}, dout)


def test_missing_tanh_derivative_is_caught(problem):
    x, W, b, dout = problem
    with pytest.raises(GradientCheckError, match="'b'"):
        check_gradients(affine_tanh, {"x": x, "W": W, "b": b}, {"b": dout.sum(0)}, dout)


def test_function_ignoring_its_input_fails(problem):
    x, W, b, dout = problem
    _, dW, _ = affine_tanh_backward(dout, x, W, b)
    # The lambda captures the outer W instead of using its argument: must not pass.
    with pytest.raises(GradientCheckError, match="does not depend on input 'W'"):
        check_gradients(lambda x, W, b: affine_tanh(x, problem[1], b), {"x": x, "W": W, "b": b}, {"W": dW}, dout)


def test_nan_gradient_fails(problem):
    x, W, b, dout = problem
    _, dW, _ = affine_tanh_backward(dout, x, W, b)
    dW[0, 0] = np.nan
    with pytest.raises(GradientCheckError, match=r"W\[0, 0\]"):
        check_gradients(affine_tanh, {"x": x, "W": W, "b": b}, {"W": dW}, dout)


def test_shape_mismatch_and_unknown_name(problem):
    x, W, b, dout = problem
    with pytest.raises(GradientCheckError, match="has shape"):
        check_gradients(affine_tanh, {"x": x, "W": W, "b": b}, {"W": W.T}, dout)
    with pytest.raises(KeyError, match="no matching input"):
        check_gradients(affine_tanh, {"x": x, "W": W, "b": b}, {"U": W}, dout)


def test_scalar_function_needs_no_dout():
    x = np.array([1.0, -2.0, 3.0])
    check_gradients(lambda x: np.sum(x ** 3), {"x": x}, {"x": 3 * x ** 2})
    with pytest.raises(ValueError, match="pass dout"):
        numerical_gradient(lambda x: x ** 2, x)
