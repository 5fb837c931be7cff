"""How a gradient travels back through time in a vanilla RNN: step Jacobians and their products.

For ``h_t = f(a_t)``, ``a_t = W_hh h_{t-1} + W_ih x_t + b`` (column vectors, as in the lecture)::

    ∂h_t/∂h_{t-1} = diag(f'(a_t)) W_hh                                    (H, H)
    ∂L/∂h_k      = (∂h_T/∂h_k)^T ∂L/∂h_T,   ∂h_T/∂h_k = Π_{t=k+1..T} diag(f'(a_t)) W_hh

In the linear case (f = identity) the product is ``W_hh^{T-k}``: its size is governed by the
eigenvalues of ``W_hh`` (spectral radius ρ): ρ > 1 explodes, ρ < 1 vanishes, geometrically in
T - k. Since ``|tanh'| <= 1``, ``||∂h_t/∂h_{t-1}|| <= σ_max(W_hh)``: σ_max < 1 is *sufficient*
for vanishing (Pascanu et al. 2013); σ_max > 1 is *necessary* for exploding.

Rows in code: the batch is a stack of row vectors, ``h`` is (N, H) and the step is
``h_t = f(x_t @ W_ih.T + b + h_{t-1} @ W_hh.T)`` like ``utils.rnn`` and ``nn.RNN``.

Shape legend: N batch, T time, D input, H hidden.
"""

from __future__ import annotations

import numpy as np

NONLINEARITIES = ("tanh", "linear", "relu")


def _act(a: np.ndarray, nonlinearity: str) -> tuple[np.ndarray, np.ndarray]:
    """f(a) and f'(a)."""
    if nonlinearity == "tanh":
        h = np.tanh(a)
        return h, 1.0 - h ** 2
    if nonlinearity == "linear":
        return a, np.ones_like(a)
    if nonlinearity == "relu":
        return np.maximum(a, 0.0), (a > 0).astype(a.dtype)
    raise ValueError(f"nonlinearity must be one of {NONLINEARITIES}, got {nonlinearity!r}")


def spectral_radius(W) -> float:
    """Largest |eigenvalue| of a square matrix."""
    return float(np.max(np.abs(np.linalg.eigvals(np.asarray(W, dtype=np.float64)))))


def largest_singular_value(W) -> float:
    """σ_max, the spectral norm: the most any vector can be stretched by W."""
    return float(np.linalg.norm(np.asarray(W, dtype=np.float64), ord=2))


def recurrent_matrix(H: int, scale: float, by: str = "spectral radius", kind: str = "gaussian",
                     rng: np.random.Generator | None = None) -> np.ndarray:
    """A random (H, H) ``W_hh`` rescaled so that its spectral radius (or σ_max) equals ``scale``.

    Args:
        by: "spectral radius" or "singular value" (largest).
        kind: "gaussian" (entries N(0, 1/H), then rescaled) or "orthogonal" (every singular value
            and every |eigenvalue| equals ``scale``, so both ``by`` agree).
    """
    rng = np.random.default_rng(0) if rng is None else rng
    A = rng.normal(0.0, 1.0 / np.sqrt(H), size=(H, H))
    if kind == "orthogonal":
        A, _ = np.linalg.qr(A)
    elif kind != "gaussian":
        raise ValueError(f"kind must be 'gaussian' or 'orthogonal', got {kind!r}")
    if by == "spectral radius":
        return A * (scale / spectral_radius(A))
    if by == "singular value":
        return A * (scale / largest_singular_value(A))
    raise ValueError(f"by must be 'spectral radius' or 'singular value', got {by!r}")


def forward_states(W_hh, T: int, nonlinearity: str = "tanh", x=None, W_ih=None, b=None,
                   h0=None) -> tuple[np.ndarray, np.ndarray]:
    """Run ``h_t = f(x_t @ W_ih.T + b + h_{t-1} @ W_hh.T)`` for one sequence (N = 1).

    Args:
        W_hh: (H, H).  x: (T, D) inputs (default: none, the input term is 0).
        W_ih: (H, D).  b: (H,) bias (default 0).  h0: (H,) start state (default 0).

    Returns:
        h: (T + 1, H) states h_0 .. h_T.   fprime: (T + 1, H), ``f'(a_t)`` (row 0 unused, ones).
    """
    W_hh = np.asarray(W_hh, dtype=np.float64)
    H = W_hh.shape[0]
    h = np.zeros((T + 1, H))
    fprime = np.ones((T + 1, H))
    h[0] = 0.0 if h0 is None else h0
    drive = np.zeros((T, H)) if x is None else np.asarray(x, dtype=np.float64) @ np.asarray(W_ih).T  # (T, H)
    if b is not None:
        drive = drive + b
    for t in range(1, T + 1):
        h[t], fprime[t] = _act(h[t - 1] @ W_hh.T + drive[t - 1], nonlinearity)
    return h, fprime


def step_jacobian(W_hh, fprime_t) -> np.ndarray:
    """∂h_t/∂h_{t-1} = diag(f'(a_t)) W_hh, (H, H)."""
    return np.asarray(fprime_t)[:, None] * np.asarray(W_hh)


def backward_norms(W_hh, fprime, dL_dhT=None) -> np.ndarray:
    """‖∂L/∂h_t‖ for t = 0..T when the loss reads only h_T (the gradient at h_T is ``dL_dhT``).

    Walks back with ``∂L/∂h_{t-1} = W_hh^T (f'(a_t) * ∂L/∂h_t)`` (row form: ``(g * f') @ W_hh``).

    Args:
        W_hh: (H, H).  fprime: (T + 1, H) from :func:`forward_states`.
        dL_dhT: (H,) gradient at the last state (default: a fixed unit vector).

    Returns:
        (T + 1,) norms, entry t = ‖∂L/∂h_t‖ (entry T is ‖dL_dhT‖).
    """
    W_hh = np.asarray(W_hh, dtype=np.float64)
    T = fprime.shape[0] - 1
    H = W_hh.shape[0]
    g = np.ones(H) / np.sqrt(H) if dL_dhT is None else np.asarray(dL_dhT, dtype=np.float64)
    norms = np.empty(T + 1)
    norms[T] = np.linalg.norm(g)
    for t in range(T, 0, -1):
        g = (g * fprime[t]) @ W_hh                                   # (H,): one step back
        norms[t - 1] = np.linalg.norm(g)
    return norms


def gradient_norms_through_time(W_hh, T: int, nonlinearity: str = "tanh", input_scale: float = 1.0,
                                rng: np.random.Generator | None = None) -> np.ndarray:
    """The lecture's experiment: random inputs drive the RNN for T steps, the loss reads h_T.

    Inputs are ``input_scale * N(0, 1)`` added directly to the pre-activation (W_ih = I, D = H).
    Returns (T + 1,) norms ‖∂L/∂h_t‖, t = 0..T, with ‖∂L/∂h_T‖ = 1.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    H = np.asarray(W_hh).shape[0]
    x = input_scale * rng.normal(size=(T, H))
    _, fprime = forward_states(W_hh, T, nonlinearity, x=x, W_ih=np.eye(H))
    return backward_norms(W_hh, fprime)
