"""The GRU cell, from scratch: numpy forward/backward pairs, torch (autograd), the paper's variant, MUT1-3.

Built in lecture 06. Torch's layout and equations (``nn.GRUCell`` / ``nn.GRU``), gate order r, z, n::

    gi = x @ W_ih.T + b_ih,  gh = prev_h @ W_hh.T + b_hh        (N, 3H) each, blocks r, z, n
    r = sigmoid(gi_r + gh_r)                 reset gate
    z = sigmoid(gi_z + gh_z)                 update gate
    n = tanh(gi_n + r * gh_n)                candidate; the reset multiplies AFTER the hidden matmul
    next_h = (1 - z) * n + z * prev_h        z = 1 keeps the old state

Two choices differ between papers and slides:

* **where the reset goes** (``reset=``): ``"after"`` the hidden matmul, ``r * (W_hn h + b_hn)``
  (torch, cuDNN, Keras' ``reset_after=True``), or ``"before"`` it, ``W_hn (r * h) + b_hn``: the
  form of Cho et al. (2014) and Chung et al. (2014). These are **different models**; no weights
  make one equal the other in general (they agree when r = 1).
* **what z weighs** (``update=``): ``"keep"``, z weighs the old state, ``(1-z) n + z h`` (torch and
  Cho et al. 2014), or ``"write"``, z weighs the candidate, ``z n + (1-z) h`` (Chung et al. 2014 and
  many slides). These are the **same model**: 1 - sigmoid(a) = sigmoid(-a), so negating the z
  rows of the weights and biases maps one onto the other (:func:`flip_update_gate`).

:class:`MUTCell` has the three architectures found by Jozefowicz, Zaremba and Sutskever (2015).

Shape legend: N batch, T time, D input features, H hidden units, G = 3 gates. Batch-first sequences.
Every backward returns the gradients in the order of its forward's inputs.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .lstm import sigmoid

__all__ = [
    "GATES", "RESETS", "UPDATES", "init_gru_params", "gru_params_from_torch", "flip_update_gate",
    "gru_step_forward", "gru_step_backward", "gru_forward", "gru_backward",
    "gru_cell", "gru_layer", "MUTCell",
]

GATES = "rzn"   # torch's order of the three blocks of rows
RESETS = ("after", "before")
UPDATES = ("keep", "write")


def _check(reset: str, update: str) -> None:
    if reset not in RESETS:
        raise ValueError(f"reset must be 'after' (torch) or 'before' (Cho et al. 2014), got {reset!r}")
    if update not in UPDATES:
        raise ValueError(f"update must be 'keep' (torch: (1-z)*n + z*h) or 'write' (z*n + (1-z)*h), got {update!r}")


# --------------------------------------------------------------------------- parameters

def init_gru_params(input_size: int, hidden_size: int, rng: np.random.Generator | None = None,
                    dtype=np.float64) -> dict[str, np.ndarray]:
    """GRU parameters initialised like torch, U(-1/sqrt(H), 1/sqrt(H)): ``W_ih`` (3H, D),
    ``W_hh`` (3H, H), ``b_ih`` (3H,), ``b_hh`` (3H,), blocks in order r, z, n."""
    rng = np.random.default_rng(0) if rng is None else rng
    H = hidden_size
    bound = 1.0 / np.sqrt(H)
    shapes = {"W_ih": (3 * H, input_size), "W_hh": (3 * H, H), "b_ih": (3 * H,), "b_hh": (3 * H,)}
    return {k: rng.uniform(-bound, bound, size=s).astype(dtype) for k, s in shapes.items()}


def gru_params_from_torch(module, layer: int = 0, reverse: bool = False) -> dict[str, np.ndarray]:
    """Copy the weights of an ``nn.GRUCell`` or of one layer (and direction) of an ``nn.GRU`` into numpy."""
    if type(module).__name__ not in ("GRU", "GRUCell"):
        raise ValueError(f"expected an nn.GRU or nn.GRUCell, got {type(module).__name__}")
    suffix = "" if type(module).__name__ == "GRUCell" else f"_l{layer}" + ("_reverse" if reverse else "")
    out = {}
    for ours, theirs in {"W_ih": "weight_ih", "W_hh": "weight_hh", "b_ih": "bias_ih", "b_hh": "bias_hh"}.items():
        p = getattr(module, theirs + suffix, None)
        if p is None:
            raise ValueError(f"{type(module).__name__} has no {theirs + suffix} (bias=False is not supported)")
        out[ours] = p.detach().cpu().numpy().copy()
    return out


def flip_update_gate(params: dict) -> dict:
    """Negate the z block (rows H..2H) of every weight and bias: maps ``update="keep"`` weights to
    ``update="write"`` weights of the same function, and back. Works on numpy or torch values."""
    out = {}
    for name, p in params.items():
        H = p.shape[0] // 3
        q = p.clone() if hasattr(p, "clone") else np.array(p, copy=True)
        q[H:2 * H] = -q[H:2 * H]
        out[name] = q
    return out


# --------------------------------------------------------------------------- numpy: one step

def gru_step_forward(x, prev_h, W_ih, W_hh, b_ih, b_hh, reset: str = "after", update: str = "keep"):
    """One GRU step for a batch.

    Args:
        x: (N, D).  prev_h: (N, H).  W_ih: (3H, D).  W_hh: (3H, H).  b_ih, b_hh: (3H,). Blocks r, z, n.
        reset: "after" (torch: ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``) or
            "before" (Cho et al. 2014: ``n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)``).
        update: "keep" (torch: ``(1-z) n + z h``) or "write" (``z n + (1-z) h``).

    Returns:
        next_h (N, H), cache for :func:`gru_step_backward`.
    """
    _check(reset, update)
    H = prev_h.shape[-1]
    if W_hh.shape != (3 * H, H):
        raise ValueError(f"W_hh must be (3H, H) = {(3 * H, H)} for H={H}, got {W_hh.shape}")
    gi = x @ W_ih.T + b_ih                                          # (N, 3H)
    gh_rz = prev_h @ W_hh[:2 * H].T + b_hh[:2 * H]                  # (N, 2H)
    r = sigmoid(gi[:, :H] + gh_rz[:, :H])
    z = sigmoid(gi[:, H:2 * H] + gh_rz[:, H:])
    if reset == "after":
        gh_n = prev_h @ W_hh[2 * H:].T + b_hh[2 * H:]               # (N, H)
        n = np.tanh(gi[:, 2 * H:] + r * gh_n)
    else:
        gh_n = (r * prev_h) @ W_hh[2 * H:].T + b_hh[2 * H:]
        n = np.tanh(gi[:, 2 * H:] + gh_n)
    keep = z if update == "keep" else 1.0 - z                       # the share of the old state
    next_h = (1.0 - keep) * n + keep * prev_h
    return next_h, (x, prev_h, W_ih, W_hh, r, z, n, gh_n, reset, update)


def gru_step_backward(dnext_h, cache):
    """Backward pass of :func:`gru_step_forward` (either reset placement, either update convention).

    Returns:
        dx (N, D), dprev_h (N, H), dW_ih (3H, D), dW_hh (3H, H), db_ih (3H,), db_hh (3H,).
    """
    x, prev_h, W_ih, W_hh, r, z, n, gh_n, reset, update = cache
    H = prev_h.shape[-1]
    keep = z if update == "keep" else 1.0 - z
    dn = dnext_h * (1.0 - keep)
    dkeep = dnext_h * (prev_h - n)
    dz = dkeep if update == "keep" else -dkeep
    dprev_h = dnext_h * keep                                         # the direct path: diag(keep)
    da_n = dn * (1.0 - n ** 2)                                       # (N, H) at the tanh's input
    W_hn = W_hh[2 * H:]
    if reset == "after":
        dr = da_n * gh_n
        dgh_n = da_n * r                                             # into W_hn h + b_hn
        dprev_h = dprev_h + dgh_n @ W_hn
        dW_hn = dgh_n.T @ prev_h
    else:
        drh = da_n @ W_hn                                            # into r * h
        dr = drh * prev_h
        dprev_h = dprev_h + drh * r
        dgh_n = da_n
        dW_hn = da_n.T @ (r * prev_h)
    da_r = dr * r * (1.0 - r)
    da_z = dz * z * (1.0 - z)
    dgi = np.concatenate([da_r, da_z, da_n], axis=1)                 # (N, 3H)
    dgh_rz = np.concatenate([da_r, da_z], axis=1)                    # (N, 2H)
    dx = dgi @ W_ih
    dprev_h = dprev_h + dgh_rz @ W_hh[:2 * H]
    dW_ih = dgi.T @ x
    dW_hh = np.concatenate([dgh_rz.T @ prev_h, dW_hn], axis=0)
    db_ih = dgi.sum(axis=0)
    db_hh = np.concatenate([dgh_rz.sum(axis=0), dgh_n.sum(axis=0)])
    return dx, dprev_h, dW_ih, dW_hh, db_ih, db_hh


# --------------------------------------------------------------------------- numpy: a sequence

def gru_forward(x, h0, W_ih, W_hh, b_ih, b_hh, reset: str = "after", update: str = "keep"):
    """Run the GRU over a batch-first sequence (N, T, D) from h0 (N, H).

    Returns:
        h (N, T, H) at every step (``h[:, -1]`` is ``h_n``), and the step caches.
    """
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"x must be batch-first (N, T, D), got shape {x.shape}")
    N, T, _ = x.shape
    h = np.empty((N, T, h0.shape[-1]), dtype=np.result_type(x, h0, W_hh))
    prev_h, caches = h0, []
    for t in range(T):
        prev_h, cache = gru_step_forward(x[:, t], prev_h, W_ih, W_hh, b_ih, b_hh, reset, update)
        h[:, t] = prev_h
        caches.append(cache)
    return h, caches


def gru_backward(dh, cache):
    """BPTT for :func:`gru_forward`: dx (N, T, D), dh0 (N, H), dW_ih, dW_hh, db_ih, db_hh."""
    N, T, H = dh.shape
    if len(cache) != T:
        raise ValueError(f"dh has T={T} steps but the cache holds {len(cache)}")
    W_ih, W_hh = cache[0][2], cache[0][3]
    dx = np.empty((N, T, W_ih.shape[1]), dtype=dh.dtype)
    grads = [np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros(3 * H, dh.dtype), np.zeros(3 * H, dh.dtype)]
    dprev_h = np.zeros((N, H), dh.dtype)
    for t in reversed(range(T)):
        dx[:, t], dprev_h, *step = gru_step_backward(dh[:, t] + dprev_h, cache[t])
        for total, g in zip(grads, step):
            total += g
    return (dx, dprev_h, *grads)


# --------------------------------------------------------------------------- torch (autograd)

def gru_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh, reset: str = "after", update: str = "keep"):
    """One GRU step in torch (autograd). Defaults are ``nn.GRUCell``'s equations.

    Args:
        x: (N, D).  h: (N, H).  weight_ih (3H, D), weight_hh (3H, H), bias_ih, bias_hh (3H,).
        reset, update: as in :func:`gru_step_forward`.

    Returns:
        next_h (N, H).
    """
    _check(reset, update)
    H = h.shape[-1]
    gi_r, gi_z, gi_n = (x @ weight_ih.T + bias_ih).chunk(3, dim=1)
    gh_r, gh_z = (h @ weight_hh[:2 * H].T + bias_hh[:2 * H]).chunk(2, dim=1)
    r = torch.sigmoid(gi_r + gh_r)
    z = torch.sigmoid(gi_z + gh_z)
    if reset == "after":
        n = torch.tanh(gi_n + r * (h @ weight_hh[2 * H:].T + bias_hh[2 * H:]))
    else:
        n = torch.tanh(gi_n + (r * h) @ weight_hh[2 * H:].T + bias_hh[2 * H:])
    keep = z if update == "keep" else 1 - z
    return (1 - keep) * n + keep * h


def gru_layer(x, h0, weight_ih, weight_hh, bias_ih, bias_hh, reset: str = "after", update: str = "keep"):
    """One GRU layer over (N, T, D), :func:`gru_cell` in a loop: ``output`` (N, T, H) and ``h_n`` (N, H)."""
    if x.dim() != 3:
        raise ValueError(f"x must be batch-first (N, T, D), got shape {tuple(x.shape)}")
    h = x.new_zeros(x.shape[0], weight_hh.shape[1]) if h0 is None else h0
    outputs = []
    for t in range(x.shape[1]):
        h = gru_cell(x[:, t], h, weight_ih, weight_hh, bias_ih, bias_hh, reset, update)
        outputs.append(h)
    return torch.stack(outputs, dim=1), h


class MUTCell(nn.Module):
    """MUT1, MUT2 or MUT3 (Jozefowicz, Zaremba and Sutskever 2015, section 3), with x and h in rows::

        MUT1: z = σ(W_xz x + b_z)
              r = σ(W_xr x + W_hr h + b_r)
              h' = tanh(W_hh (r ⊙ h) + tanh(x) + b_h) ⊙ z + h ⊙ (1 − z)
        MUT2: z = σ(W_xz x + W_hz h + b_z)
              r = σ(x + W_hr h + b_r)
              h' = tanh(W_hh (r ⊙ h) + W_xh x + b_h) ⊙ z + h ⊙ (1 − z)
        MUT3: z = σ(W_xz x + W_hz tanh(h) + b_z)
              r = σ(W_xr x + W_hr h + b_r)
              h' = tanh(W_hh (r ⊙ h) + W_xh x + b_h) ⊙ z + h ⊙ (1 − z)

    Note the convention: z weighs the *candidate* (``update="write"``), and the reset goes
    *before* the matmul. MUT1 adds ``tanh(x)`` and MUT2 adds ``x`` unweighted, so both need
    ``input_size == hidden_size`` (the paper feeds them an embedding of size H).

    ``forward(x (N, D), h (N, H)) -> next_h (N, H)``.
    """

    def __init__(self, input_size: int, hidden_size: int, variant: str = "MUT1"):
        super().__init__()
        variant = variant.upper()
        if variant not in ("MUT1", "MUT2", "MUT3"):
            raise ValueError(f"variant must be MUT1, MUT2 or MUT3, got {variant!r}")
        if variant in ("MUT1", "MUT2") and input_size != hidden_size:
            raise ValueError(f"{variant} adds the input to a hidden-size vector unweighted, so it needs "
                             f"input_size == hidden_size (got {input_size} and {hidden_size}): "
                             f"embed or project the input to size H first")
        self.variant, self.input_size, self.hidden_size = variant, input_size, hidden_size
        D, H = input_size, hidden_size
        lin = lambda i, o, bias=True: nn.Linear(i, o, bias=bias)  # noqa: E731
        self.W_xz = lin(D, H)                                     # holds b_z
        self.W_hz = None if variant == "MUT1" else lin(H, H, bias=False)
        self.W_xr = None if variant == "MUT2" else lin(D, H, bias=False)
        self.W_hr = lin(H, H)                                     # holds b_r
        self.W_hh = lin(H, H)                                     # holds b_h
        self.W_xh = None if variant == "MUT1" else lin(D, H, bias=False)
        bound = 1.0 / H ** 0.5
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        v = self.variant
        if v == "MUT1":
            z = torch.sigmoid(self.W_xz(x))
        elif v == "MUT2":
            z = torch.sigmoid(self.W_xz(x) + self.W_hz(h))
        else:
            z = torch.sigmoid(self.W_xz(x) + self.W_hz(torch.tanh(h)))
        r = torch.sigmoid((x if v == "MUT2" else self.W_xr(x)) + self.W_hr(h))
        inp = torch.tanh(x) if v == "MUT1" else self.W_xh(x)
        candidate = torch.tanh(self.W_hh(r * h) + inp)
        return candidate * z + h * (1 - z)

    def extra_repr(self) -> str:
        return f"{self.variant}, input_size={self.input_size}, hidden_size={self.hidden_size}"
