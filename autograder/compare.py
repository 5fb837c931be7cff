"""Comparisons used by verdicts: relative error, numerical gradients, messages that name the term.

Deliberately independent of ``utils.gradcheck``: the grader's verdicts must not change when the
course library changes.
"""

from __future__ import annotations

from typing import Callable

import numpy as np


def rel_error(a, b) -> float:
    """max |a - b| / max(1e-8, |a| + |b|), elementwise, in float64."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)), initial=0.0))


def numerical_gradient(f: Callable[[], np.ndarray], x: np.ndarray, dout: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of ``sum(f() * dout)`` with respect to ``x`` (modified in place, restored)."""
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = np.sum(np.asarray(f(), dtype=np.float64) * dout)
        x[i] = old - h
        minus = np.sum(np.asarray(f(), dtype=np.float64) * dout)
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def problem(name: str, got, expected, tol: float) -> str | None:
    """None if ``got`` matches ``expected`` within relative error ``tol``, else a sentence saying why not."""
    if got is None:
        return f"`{name}` is missing from what your function returned"
    got = np.asarray(got)
    expected = np.asarray(expected)
    if got.dtype.kind not in "biuf":
        return f"`{name}` is not a numeric array"
    if got.shape != expected.shape:
        return f"`{name}` has shape {got.shape}, expected {expected.shape}"
    if not np.all(np.isfinite(got)):
        return f"`{name}` contains inf or nan (numerically unstable?)"
    err = rel_error(got, expected)
    if err > tol:
        return f"`{name}` is wrong (relative error {err:.1e})"
    return None


def first_wrong_step(got, expected, tol: float) -> int | None:
    """Walking back in time from t = T-1, the first time step where (N, T, ...) arrays differ."""
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if got.shape != expected.shape:
        return None
    for t in reversed(range(expected.shape[1])):
        if rel_error(got[:, t], expected[:, t]) > tol:
            return t
    return None
