"""The vanilla (Elman) RNN in numpy: forward/backward pairs with caches, one step and a whole sequence.

Built in lecture 01 (forward) and lecture 03 (backward, BPTT); later lectures import it.

The cell, with torch's names and layout (``nn.RNNCell`` / ``nn.RNN`` with ``nonlinearity="tanh"``)::

    next_h = tanh(x @ W_ih.T + b_ih + prev_h @ W_hh.T + b_hh)

which is the textbook ``h_t = tanh(W_hh h_{t-1} + W_xh x_t + b)`` applied to a batch of row
vectors (``W_xh`` is torch's ``weight_ih``; torch keeps two biases, their sum is the ``b``).
A readout ``y_t = W_hy h_t + b_y`` is :func:`linear_forward`.

Shape legend: N batch, T time, D input features, H hidden units, V outputs (vocabulary).
Sequences are **batch-first**: ``x`` is (N, T, D) and ``h`` is (N, T, H), like
``nn.RNN(..., batch_first=True)``.

Every backward returns the gradients in the order of its forward's inputs.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "init_rnn_params", "params_from_torch",
    "rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
    "linear_forward", "linear_backward",
]


# --------------------------------------------------------------------------- parameters

def init_rnn_params(input_size: int, hidden_size: int, output_size: int | None = None,
                    rng: np.random.Generator | None = None, dtype=np.float64) -> dict[str, np.ndarray]:
    """Parameters of a vanilla RNN, initialised like torch: each entry ~ U(-1/sqrt(H), 1/sqrt(H)).

    Returns a dict with ``W_ih`` (H, D), ``W_hh`` (H, H), ``b_ih`` (H,), ``b_hh`` (H,) and, when
    ``output_size`` V is given, a readout ``W_hy`` (V, H) and ``b_y`` (V,).
    """
    rng = np.random.default_rng(0) if rng is None else rng
    bound = 1.0 / np.sqrt(hidden_size)
    shapes = {"W_ih": (hidden_size, input_size), "W_hh": (hidden_size, hidden_size),
              "b_ih": (hidden_size,), "b_hh": (hidden_size,)}
    if output_size is not None:
        shapes.update(W_hy=(output_size, hidden_size), b_y=(output_size,))
    return {k: rng.uniform(-bound, bound, size=s).astype(dtype) for k, s in shapes.items()}


def params_from_torch(module, layer: int = 0) -> dict[str, np.ndarray]:
    """Copy the weights of an ``nn.RNNCell`` or (layer ``layer`` of) an ``nn.RNN`` into numpy.

    Returns ``{"W_ih", "W_hh", "b_ih", "b_hh"}`` in the module's dtype (float64 for parity tests).
    """
    suffix = "" if not hasattr(module, "num_layers") else f"_l{layer}"
    if getattr(module, "nonlinearity", "tanh") != "tanh":
        raise ValueError(f"this numpy RNN is the tanh cell; the module uses {module.nonlinearity!r}")
    names = {"W_ih": "weight_ih", "W_hh": "weight_hh", "b_ih": "bias_ih", "b_hh": "bias_hh"}
    out = {}
    for ours, theirs in names.items():
        p = getattr(module, theirs + suffix, None)
        if p is None:
            raise ValueError(f"{type(module).__name__} has no {theirs + suffix} (bias=False is not supported)")
        out[ours] = p.detach().cpu().numpy().copy()
    return out


# --------------------------------------------------------------------------- one time step

def rnn_step_forward(x, prev_h, W_ih, W_hh, b_ih, b_hh):
    """One step of the tanh RNN for a batch: ``next_h = tanh(x W_ih^T + b_ih + prev_h W_hh^T + b_hh)``.

    Args:
        x: (N, D) inputs at this step.
        prev_h: (N, H) hidden state from the previous step.
        W_ih: (H, D) input-to-hidden weights (torch ``weight_ih``).
        W_hh: (H, H) hidden-to-hidden weights (torch ``weight_hh``).
        b_ih: (H,) input bias.  b_hh: (H,) hidden bias.

    Returns:
        next_h: (N, H).
        cache: what :func:`rnn_step_backward` needs.
    """
    next_h = np.tanh(x @ W_ih.T + b_ih + prev_h @ W_hh.T + b_hh)  # (N, H)
    return next_h, (x, prev_h, W_ih, W_hh, next_h)


def rnn_step_backward(dnext_h, cache):
    """Backward pass of :func:`rnn_step_forward`.

    Args:
        dnext_h: (N, H) gradient of the loss with respect to ``next_h``.
        cache: from the forward step.

    Returns:
        dx (N, D), dprev_h (N, H), dW_ih (H, D), dW_hh (H, H), db_ih (H,), db_hh (H,).
    """
    x, prev_h, W_ih, W_hh, next_h = cache
    da = dnext_h * (1.0 - next_h ** 2)  # (N, H): through tanh, since tanh' = 1 - tanh^2
    dx = da @ W_ih                      # (N, H) @ (H, D)
    dprev_h = da @ W_hh                 # (N, H) @ (H, H)
    dW_ih = da.T @ x                    # (H, N) @ (N, D): summed over the batch
    dW_hh = da.T @ prev_h               # (H, N) @ (N, H)
    db = da.sum(axis=0)                 # (H,)
    return dx, dprev_h, dW_ih, dW_hh, db, db.copy()


# --------------------------------------------------------------------------- a whole sequence

def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    """Run the tanh RNN over a batch-first sequence, the same weights at every step.

    Args:
        x: (N, T, D) inputs, batch-first.
        h0: (N, H) initial hidden state.
        W_ih (H, D), W_hh (H, H), b_ih (H,), b_hh (H,): as in :func:`rnn_step_forward`.

    Returns:
        h: (N, T, H) hidden state at every step (``h[:, -1]`` is torch's ``h_n``).
        cache: the list of step caches, for :func:`rnn_backward`.
    """
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"x must be batch-first (N, T, D), got shape {x.shape}")
    N, T, _ = x.shape
    H = h0.shape[-1]
    h = np.empty((N, T, H), dtype=np.result_type(x, h0, W_hh))
    caches = []
    prev_h = h0
    for t in range(T):
        prev_h, cache = rnn_step_forward(x[:, t], prev_h, W_ih, W_hh, b_ih, b_hh)
        h[:, t] = prev_h
        caches.append(cache)
    return h, caches


def rnn_backward(dh, cache, truncate: int | None = None):
    """Backpropagation through time for :func:`rnn_forward`.

    Walks the steps backwards; at each step the gradient reaching ``h_t`` is the loss's own
    ``dh[:, t]`` plus what flows back from ``h_{t+1}``. The shared weights' gradients are the
    **sum over time** of the per-step gradients.

    Args:
        dh: (N, T, H) upstream gradient of the loss with respect to every hidden state
            (to send a gradient into ``h_n`` too, add it to ``dh[:, -1]``).
        cache: from :func:`rnn_forward`.
        truncate: k for truncated BPTT: the sequence is read in chunks of k steps (0-based steps
            ``[0, k)``, ``[k, 2k)``, ...) and no gradient crosses from one chunk into the previous
            one, exactly as if each chunk were run from the previous chunk's detached last state.
            ``None`` (or k >= T) is full BPTT.

    Returns:
        dx (N, T, D), dh0 (N, H), dW_ih (H, D), dW_hh (H, H), db_ih (H,), db_hh (H,).
    """
    N, T, H = dh.shape
    if len(cache) != T:
        raise ValueError(f"dh has T={T} steps but the cache holds {len(cache)}")
    if truncate is not None and truncate < 1:
        raise ValueError(f"truncate must be a positive number of steps, got {truncate}")
    x0, _, W_ih, W_hh, _ = cache[0]
    dx = np.empty((N, T, x0.shape[1]), dtype=dh.dtype)
    dW_ih, dW_hh = np.zeros_like(W_ih), np.zeros_like(W_hh)
    db = np.zeros(H, dtype=dh.dtype)
    dprev_h = np.zeros((N, H), dtype=dh.dtype)  # nothing flows back from beyond the last step
    for t in reversed(range(T)):
        if truncate is not None and (t + 1) % truncate == 0:
            dprev_h = np.zeros_like(dprev_h)    # t is the last step of a chunk: cut the flow from t + 1
        dx[:, t], dprev_h, dW_ih_t, dW_hh_t, db_t, _ = rnn_step_backward(dh[:, t] + dprev_h, cache[t])
        dW_ih += dW_ih_t
        dW_hh += dW_hh_t
        db += db_t
    return dx, dprev_h, dW_ih, dW_hh, db, db.copy()


# --------------------------------------------------------------------------- readout

def linear_forward(h, W, b):
    """Readout ``y = h W^T + b`` on the last axis, e.g. ``y_t = W_hy h_t + b_y`` at every step.

    Args:
        h: (..., H), e.g. (N, T, H) or (N, H).
        W: (V, H).  b: (V,).

    Returns:
        y: (..., V).
        cache: for :func:`linear_backward`.
    """
    return h @ W.T + b, (h, W)


def linear_backward(dy, cache):
    """Backward of :func:`linear_forward`: returns dh (..., H), dW (V, H), db (V,)."""
    h, W = cache
    H, V = W.shape[1], W.shape[0]
    dh = dy @ W                                             # (..., V) @ (V, H)
    dW = dy.reshape(-1, V).T @ h.reshape(-1, H)             # flatten (N, T) to N*T rows
    db = dy.reshape(-1, V).sum(axis=0)
    return dh, dW, db
