"""Gradient clipping, in numpy and torch: by global norm (Pascanu et al. 2013, Algorithm 1), by
value, and the squared-norm slip as a named wrong variant.

Algorithm 1 of Pascanu, Mikolov & Bengio (2013), "On the difficulty of training recurrent neural
networks"::

    g <- dL/dθ
    if ||g|| >= threshold:
        g <- (threshold / ||g||) g

where ``||g||`` is the L2 norm of *all* the gradients together (one vector made of every
parameter's gradient). The direction of ``g`` is kept; only its length is capped.

``torch.nn.utils.clip_grad_norm_`` does the same with ``clip_coef = max_norm / (norm + 1e-6)``,
applied when it is below 1; the functions here use the same ``eps`` so they match it to
rounding (tests/test_clip.py).

The slip: a widely shown slide computes ``grad_norm = np.sum(grad * grad)``, the *squared* norm.
It then clips once ``||g|| > sqrt(threshold)``: earlier than Algorithm 1 for a threshold above 1,
at the same point for a threshold of 1, later below 1. And it shrinks a clipped gradient to
``threshold / ||g||`` instead of ``threshold``: the bigger the gradient, the *smaller* the step. :func:`clip_by_global_norm_squared_slip` reproduces it so lecture 04 can
measure the difference. Do not use it.

Shape legend: gradients are lists of arrays of any shapes (one per parameter); P is the total
number of entries, the length of the flattened vector g.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import torch

EPS = 1e-6  # torch.nn.utils.clip_grad_norm_'s


# --------------------------------------------------------------------------- numpy

def global_norm(grads: Sequence[np.ndarray]) -> float:
    """L2 norm of all gradients together: ``sqrt(sum over every entry of g**2)``."""
    return float(np.sqrt(sum(np.sum(np.square(np.asarray(g, dtype=np.float64))) for g in grads)))


def clip_by_global_norm(grads: Sequence[np.ndarray], max_norm: float) -> tuple[list[np.ndarray], float]:
    """Pascanu et al. (2013) Algorithm 1: rescale all gradients together when their norm exceeds ``max_norm``.

    Returns:
        clipped: new arrays (the inputs are not modified), each shaped like its input.
        norm: the global norm *before* clipping (what you log to see explosions).
    """
    if max_norm <= 0:
        raise ValueError(f"max_norm must be > 0, got {max_norm}")
    norm = global_norm(grads)
    scale = min(1.0, max_norm / (norm + EPS))
    return [np.asarray(g) * scale for g in grads], norm


def clip_by_global_norm_squared_slip(grads: Sequence[np.ndarray], max_norm: float) -> tuple[list[np.ndarray], float]:
    """WRONG, for teaching: the slide's ``grad_norm = np.sum(grad * grad)`` (no square root).

    Returns ``(clipped, squared_norm)``. Compare with :func:`clip_by_global_norm`: it clips once
    ``||g|| > sqrt(max_norm)`` (earlier than Algorithm 1 if ``max_norm > 1``, later if below 1), and to
    ``max_norm / ||g||`` rather than ``max_norm``.
    """
    if max_norm <= 0:
        raise ValueError(f"max_norm must be > 0, got {max_norm}")
    squared = float(sum(np.sum(np.asarray(g, dtype=np.float64) ** 2) for g in grads))  # the slip: no sqrt
    scale = min(1.0, max_norm / (squared + EPS))
    return [np.asarray(g) * scale for g in grads], squared


def clip_by_value(grads: Sequence[np.ndarray], clip_value: float) -> list[np.ndarray]:
    """Clamp every entry to ``[-clip_value, clip_value]`` (``torch.nn.utils.clip_grad_value_``).

    Each coordinate is clipped on its own, so the direction of ``g`` changes whenever some
    entries are clipped and others are not.
    """
    if clip_value <= 0:
        raise ValueError(f"clip_value must be > 0, got {clip_value}")
    return [np.clip(g, -clip_value, clip_value) for g in grads]


def cosine_similarity(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> float:
    """Cosine of the angle between two gradient lists, each flattened into one (P,) vector."""
    va = np.concatenate([np.ravel(x) for x in a]).astype(np.float64)
    vb = np.concatenate([np.ravel(x) for x in b]).astype(np.float64)
    denom = np.linalg.norm(va) * np.linalg.norm(vb)
    if denom == 0:
        raise ValueError("cosine similarity is undefined for a zero gradient")
    return float(va @ vb / denom)


# --------------------------------------------------------------------------- torch, in place on .grad

def _grads(parameters: Iterable[torch.Tensor] | torch.Tensor) -> list[torch.Tensor]:
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


@torch.no_grad()
def clip_grad_norm_(parameters, max_norm: float, squared_slip: bool = False) -> torch.Tensor:
    """Algorithm 1 on the ``.grad`` of ``parameters``, in place; returns the norm before clipping.

    Same result as ``torch.nn.utils.clip_grad_norm_(parameters, max_norm)``. With
    ``squared_slip=True`` it makes the slide's mistake (divides by the squared norm and returns it).
    """
    if max_norm <= 0:
        raise ValueError(f"max_norm must be > 0, got {max_norm}")
    grads = _grads(parameters)
    if not grads:
        return torch.tensor(0.0)
    squared = sum(g.detach().double().pow(2).sum() for g in grads)
    norm = squared if squared_slip else squared.sqrt()
    scale = torch.clamp(max_norm / (norm + EPS), max=1.0)
    for g in grads:
        g.mul_(scale.to(g.dtype))
    return norm.to(grads[0].dtype)


@torch.no_grad()
def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clamp every gradient entry to ``[-clip_value, clip_value]`` in place (``torch.nn.utils.clip_grad_value_``)."""
    if clip_value <= 0:
        raise ValueError(f"clip_value must be > 0, got {clip_value}")
    for g in _grads(parameters):
        g.clamp_(-clip_value, clip_value)
