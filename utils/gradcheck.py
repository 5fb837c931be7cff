"""Gradient checking, written once: central differences on a copy, in float64, loud on failure.

The numerical gradient of ``f`` at ``x`` is computed by perturbing a *copy* of ``x`` and
calling ``f`` with that copy, so a function that ignores its argument yields a zero
numerical gradient and the check fails (it cannot pass by looking at a global).
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np


class GradientCheckError(AssertionError):
    """An analytic gradient disagrees with the numerical one."""


def rel_error(a, b) -> float:
    """Largest elementwise relative error ``|a-b| / max(1e-8, |a|+|b|)``."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error: shapes differ: {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def numerical_gradient(f: Callable[[np.ndarray], np.ndarray | float], x, dout=None,
                       h: float = 1e-5, dtype=np.float64) -> np.ndarray:
    """Central-difference gradient of ``sum(f(x) * dout)`` with respect to ``x``.

    Args:
        f: called as ``f(x_perturbed)``; returns a scalar or an array shaped like ``dout``.
        x: the point, any shape; it is copied (cast to ``dtype``) and never modified.
        dout: upstream gradient, same shape as ``f(x)``; ``None`` for a scalar ``f``.
        h: step size.

    Returns:
        array shaped like ``x`` in ``dtype``.
    """
    x = np.array(x, dtype=dtype, copy=True)
    grad = np.zeros_like(x)
    up = None if dout is None else np.asarray(dout, dtype=dtype)
    for ix in np.ndindex(x.shape):
        xp = x.copy()
        xp[ix] += h
        fp = np.asarray(f(xp), dtype=dtype)
        xm = x.copy()
        xm[ix] -= h
        fm = np.asarray(f(xm), dtype=dtype)
        diff = fp - fm
        if up is None:
            if diff.size != 1:
                raise ValueError(f"f returns shape {diff.shape}; pass dout (the upstream gradient) for non-scalar f")
            grad[ix] = diff.item() / (2 * h)
        else:
            if diff.shape != up.shape:
                raise ValueError(f"f returns shape {diff.shape} but dout has shape {up.shape}")
            grad[ix] = np.sum(diff * up) / (2 * h)
    return grad


def check_gradients(f: Callable[..., np.ndarray | float], inputs: Mapping[str, np.ndarray],
                    grads: Mapping[str, np.ndarray], dout=None, *, h: float = 1e-5,
                    tol: float = 1e-7, allow_zero: bool = False, verbose: bool = False) -> dict[str, float]:
    """Check each analytic gradient in ``grads`` against central differences of ``f``.

    Args:
        f: called as ``f(**inputs)``, returning a scalar or an array shaped like ``dout``.
        inputs: name -> array; each name in ``grads`` must be a key here.
        grads: name -> analytic gradient of ``sum(f(**inputs) * dout)`` w.r.t. ``inputs[name]``.
        dout: upstream gradient (``None`` for scalar ``f``).
        tol: largest relative error accepted (float64 checks reach ~1e-9; 1e-7 is the course's bar).
        allow_zero: accept an all-zero numerical gradient (off by default: it usually means
            ``f`` ignores the input being perturbed).

    Returns:
        name -> relative error.

    Raises:
        GradientCheckError: names the failing gradient, its error and its worst entry.
    """
    unknown = set(grads) - set(inputs)
    if unknown:
        raise KeyError(f"gradients {sorted(unknown)} have no matching input; inputs are {sorted(inputs)}")
    base = {k: np.array(v, dtype=np.float64, copy=True) for k, v in inputs.items()}
    errors: dict[str, float] = {}
    for name, analytic in grads.items():
        analytic = np.asarray(analytic, dtype=np.float64)
        if analytic.shape != base[name].shape:
            raise GradientCheckError(
                f"gradient {name!r} has shape {analytic.shape}, but input {name!r} has shape {base[name].shape}"
            )

        def f_of(x, name=name):
            return f(**{**base, name: x})

        numeric = numerical_gradient(f_of, base[name], dout, h=h)
        if not allow_zero and not np.any(numeric) and np.any(analytic):
            raise GradientCheckError(
                f"gradient {name!r}: the numerical gradient is exactly zero, so f does not depend on "
                f"input {name!r}. Does f use its arguments (not a variable captured from outside)?"
            )
        err = rel_error(analytic, numeric)
        errors[name] = err
        if verbose:
            print(f"{name:>10}: relative error {err:.2e}")
        if not err <= tol:  # also catches NaN
            ratio = np.abs(analytic - numeric) / np.maximum(1e-8, np.abs(analytic) + np.abs(numeric))
            worst = np.unravel_index(int(np.nanargmax(np.where(np.isnan(ratio), np.inf, ratio))), ratio.shape)
            where = f"{name}[{', '.join(map(str, worst))}]" if worst else name
            raise GradientCheckError(
                f"gradient {name!r} is wrong: relative error {err:.2e} > {tol:.0e}. Worst entry {where}: "
                f"analytic {analytic[worst]:.6g}, numerical {numeric[worst]:.6g}."
            )
    return errors
