"""The LSTM cell, from scratch: numpy forward/backward pairs with caches, and torch (autograd).

Built in lecture 05; later lectures and assignment 2 import it. Torch's names and layout, so a
parity test can copy the weights of ``nn.LSTMCell`` / ``nn.LSTM`` straight in::

    a = x @ W_ih.T + b_ih + prev_h @ W_hh.T + b_hh       (N, 4H), the four gates side by side
    i, f, g, o = a[:, :H], a[:, H:2H], a[:, 2H:3H], a[:, 3H:]    torch's gate order: i, f, g, o
    i, f, o = sigmoid(i), sigmoid(f), sigmoid(o);  g = tanh(g)
    next_c = f * prev_c + i * g        forget some of the old memory, write i (how much) of g (what)
    next_h = o * tanh(next_c)          expose some of the memory

The textbook's stacked form ``[i; f; g; o] = W [h_{t-1}; x_t] + b`` is the same thing:
``W = [W_hh | W_ih]`` side by side (4H, H + D), and torch keeps two biases whose sum is ``b``.
Many teaching codes (CS231n, char-rnn) order the gates i, f, o, g and store ``Wx`` (D, 4H);
:func:`from_ifog` converts such weights to this layout in one place.

Shape legend: N batch, T time, D input features, H hidden units, G = 4 gates.
Sequences are **batch-first**: ``x`` (N, T, D), ``h`` (N, T, H), like ``nn.LSTM(batch_first=True)``.
Every backward returns the gradients in the order of its forward's inputs.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = [
    "GATES", "init_lstm_params", "lstm_params_from_torch", "split_gates", "reorder_gates", "from_ifog",
    "sigmoid", "lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward",
    "lstm_cell", "lstm_layer", "lstm_trace", "state_gradient_norms",
]

GATES = "ifgo"  # torch's order of the four blocks of rows of weight_ih, weight_hh and the biases


# --------------------------------------------------------------------------- parameters

def init_lstm_params(input_size: int, hidden_size: int, rng: np.random.Generator | None = None,
                     dtype=np.float64, forget_bias: float = 0.0) -> dict[str, np.ndarray]:
    """LSTM parameters initialised like torch: every entry ~ U(-1/sqrt(H), 1/sqrt(H)).

    Args:
        forget_bias: added to the forget gate's block of ``b_ih`` (rows H..2H). 1 is the usual
            choice (Gers et al. 2000; Jozefowicz et al. 2015): the cell starts out remembering.

    Returns:
        ``W_ih`` (4H, D), ``W_hh`` (4H, H), ``b_ih`` (4H,), ``b_hh`` (4H,), blocks in order i, f, g, o.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    H = hidden_size
    bound = 1.0 / np.sqrt(H)
    shapes = {"W_ih": (4 * H, input_size), "W_hh": (4 * H, H), "b_ih": (4 * H,), "b_hh": (4 * H,)}
    params = {k: rng.uniform(-bound, bound, size=s).astype(dtype) for k, s in shapes.items()}
    params["b_ih"][H:2 * H] += forget_bias
    return params


def lstm_params_from_torch(module, layer: int = 0, reverse: bool = False) -> dict[str, np.ndarray]:
    """Copy the weights of an ``nn.LSTMCell``, or of one layer (and direction) of an ``nn.LSTM``.

    Returns ``{"W_ih", "W_hh", "b_ih", "b_hh"}`` as numpy arrays in the module's dtype.
    """
    if type(module).__name__ not in ("LSTM", "LSTMCell"):
        raise ValueError(f"expected an nn.LSTM or nn.LSTMCell, got {type(module).__name__}")
    suffix = "" if type(module).__name__ == "LSTMCell" else f"_l{layer}" + ("_reverse" if reverse else "")
    if getattr(module, "proj_size", 0):
        raise ValueError("nn.LSTM(proj_size > 0) adds a projection this cell does not have")
    out = {}
    for ours, theirs in {"W_ih": "weight_ih", "W_hh": "weight_hh", "b_ih": "bias_ih", "b_hh": "bias_hh"}.items():
        p = getattr(module, theirs + suffix, None)
        if p is None:
            raise ValueError(f"{type(module).__name__} has no {theirs + suffix} "
                             f"(bias=False is not supported; layers: {getattr(module, 'num_layers', 1)})")
        out[ours] = p.detach().cpu().numpy().copy()
    return out


def split_gates(a, order: str = GATES, axis: int = -1) -> dict:
    """Split ``a`` into its named gate blocks along ``axis``.

    ``split_gates(a)`` on pre-activations (N, 4H) gives ``{"i": (N, H), "f": ..., "g": ..., "o": ...}``;
    ``split_gates(W_ih, axis=0)`` splits a weight (4H, D) or a bias (4H,) into (H, D) or (H,) blocks.
    ``order`` names the blocks (``"rzn"`` for a GRU). Works for numpy arrays and torch tensors.
    """
    G = len(order)
    size = a.shape[axis]
    if size % G:
        raise ValueError(f"axis {axis} of shape {tuple(a.shape)} has {size} entries, not a multiple of "
                         f"{G} gates ({order})")
    H = size // G
    index = [slice(None)] * a.ndim
    blocks = {}
    for k, gate in enumerate(order):
        index[axis] = slice(k * H, (k + 1) * H)
        blocks[gate] = a[tuple(index)]
    return blocks


def reorder_gates(a, src: str, dst: str = GATES, axis: int = 0):
    """Permute the G gate blocks of ``a`` along ``axis`` from order ``src`` to order ``dst``.

    >>> reorder_gates(W_ifog, "ifog", "ifgo")   # CS231n / char-rnn order -> torch's

    Works for numpy arrays and torch tensors, weights (G*H, D) or biases (G*H,).
    """
    if sorted(src) != sorted(dst) or len(set(src)) != len(src):
        raise ValueError(f"src {src!r} and dst {dst!r} must name the same gates once each")
    G = len(src)
    if a.shape[axis] % G:
        raise ValueError(f"axis {axis} of shape {tuple(a.shape)} is not a multiple of {G} gates")
    H = a.shape[axis] // G
    index = np.concatenate([np.arange(src.index(gate) * H, (src.index(gate) + 1) * H) for gate in dst])
    if isinstance(a, torch.Tensor):
        return a.index_select(axis, torch.as_tensor(index, device=a.device))
    return np.take(a, index, axis=axis)


def from_ifog(Wx, Wh, b) -> dict[str, np.ndarray]:
    """CS231n / char-rnn LSTM weights -> this course's (torch's) layout. Every change in one place:

    * they store ``Wx`` (D, 4H) and ``Wh`` (H, 4H) and compute ``x @ Wx``: torch stores the
      transposes, ``W_ih`` (4H, D) and ``W_hh`` (4H, H), and computes ``x @ W_ih.T``;
    * their gate blocks are ordered i, f, o, g: torch's are i, f, g, o (swap the last two blocks);
    * they have one bias ``b`` (4H,): torch has two; put it in ``b_ih`` and set ``b_hh`` to 0.
    """
    Wx, Wh, b = np.asarray(Wx), np.asarray(Wh), np.asarray(b)
    if Wx.shape[1] != Wh.shape[1] or Wh.shape[1] != 4 * Wh.shape[0] or b.shape != (Wh.shape[1],):
        raise ValueError(f"expected Wx (D, 4H), Wh (H, 4H), b (4H,); got {Wx.shape}, {Wh.shape}, {b.shape}")
    return {"W_ih": reorder_gates(Wx.T, "ifog"), "W_hh": reorder_gates(Wh.T, "ifog"),
            "b_ih": reorder_gates(b, "ifog"), "b_hh": np.zeros_like(b)}


# --------------------------------------------------------------------------- numpy: one step

def sigmoid(a):
    """Logistic function, stable for large |a| (no overflow warning)."""
    a = np.asarray(a)
    out = np.empty_like(a, dtype=np.result_type(a, np.float32))
    pos = a >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-a[pos]))
    e = np.exp(a[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def lstm_step_forward(x, prev_h, prev_c, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step for a batch, torch's equations and gate order (i, f, g, o).

    Args:
        x: (N, D) inputs at this step.
        prev_h: (N, H) hidden state.  prev_c: (N, H) cell state.
        W_ih: (4H, D) input weights (torch ``weight_ih``).  W_hh: (4H, H) recurrent weights.
        b_ih: (4H,) and b_hh: (4H,) biases.

    Returns:
        next_h (N, H), next_c (N, H), cache for :func:`lstm_step_backward`.
    """
    H = prev_h.shape[-1]
    if W_hh.shape != (4 * H, H):
        raise ValueError(f"W_hh must be (4H, H) = {(4 * H, H)} for H={H}, got {W_hh.shape}")
    a = x @ W_ih.T + b_ih + prev_h @ W_hh.T + b_hh           # (N, 4H)
    i = sigmoid(a[:, :H])                                     # input gate: how much to write
    f = sigmoid(a[:, H:2 * H])                                # forget gate: how much to keep
    g = np.tanh(a[:, 2 * H:3 * H])                            # candidate: what to write
    o = sigmoid(a[:, 3 * H:])                                 # output gate: how much to expose
    next_c = f * prev_c + i * g
    tanh_c = np.tanh(next_c)
    next_h = o * tanh_c
    return next_h, next_c, (x, prev_h, prev_c, W_ih, W_hh, i, f, g, o, tanh_c)


def lstm_step_backward(dnext_h, dnext_c, cache):
    """Backward pass of :func:`lstm_step_forward`.

    Args:
        dnext_h: (N, H) gradient of the loss w.r.t. ``next_h``.
        dnext_c: (N, H) gradient w.r.t. ``next_c`` from later steps (zeros at the last step).
        cache: from the forward step.

    Returns:
        dx (N, D), dprev_h (N, H), dprev_c (N, H), dW_ih (4H, D), dW_hh (4H, H), db_ih (4H,), db_hh (4H,).
    """
    x, prev_h, prev_c, W_ih, W_hh, i, f, g, o, tanh_c = cache
    do = dnext_h * tanh_c
    dc = dnext_c + dnext_h * o * (1.0 - tanh_c ** 2)          # both paths into next_c
    di, df, dg = dc * g, dc * prev_c, dc * i
    dprev_c = dc * f                                          # the cell path: a diagonal Jacobian, diag(f)
    da = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g ** 2), do * o * (1 - o)], axis=1)  # (N, 4H)
    dx = da @ W_ih                                            # (N, 4H) @ (4H, D)
    dprev_h = da @ W_hh                                       # (N, 4H) @ (4H, H)
    dW_ih = da.T @ x                                          # (4H, N) @ (N, D): summed over the batch
    dW_hh = da.T @ prev_h
    db = da.sum(axis=0)
    return dx, dprev_h, dprev_c, dW_ih, dW_hh, db, db.copy()


# --------------------------------------------------------------------------- numpy: a sequence

def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    """Run the LSTM over a batch-first sequence, the same weights at every step.

    Args:
        x: (N, T, D).  h0, c0: (N, H) initial states.  Weights as in :func:`lstm_step_forward`.

    Returns:
        h: (N, T, H) hidden state at every step (torch's ``output``; ``h[:, -1]`` is ``h_n``).
        c: (N, T, H) cell state at every step (``c[:, -1]`` is torch's ``c_n``).
        cache: the step caches, for :func:`lstm_backward`.
    """
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"x must be batch-first (N, T, D), got shape {x.shape}")
    N, T, _ = x.shape
    H = h0.shape[-1]
    dtype = np.result_type(x, h0, W_hh)
    h, c = np.empty((N, T, H), dtype), np.empty((N, T, H), dtype)
    prev_h, prev_c, caches = h0, c0, []
    for t in range(T):
        prev_h, prev_c, cache = lstm_step_forward(x[:, t], prev_h, prev_c, W_ih, W_hh, b_ih, b_hh)
        h[:, t], c[:, t] = prev_h, prev_c
        caches.append(cache)
    return h, c, caches


def lstm_backward(dh, cache, dc_n=None):
    """Backpropagation through time for :func:`lstm_forward`.

    Args:
        dh: (N, T, H) gradient of the loss w.r.t. every hidden state (add a gradient on ``h_n``
            to ``dh[:, -1]``).
        cache: from :func:`lstm_forward`.
        dc_n: (N, H) gradient w.r.t. the last cell state ``c_n`` (default zeros).

    Returns:
        dx (N, T, D), dh0 (N, H), dc0 (N, H), dW_ih, dW_hh, db_ih, db_hh (summed over time).
    """
    N, T, H = dh.shape
    if len(cache) != T:
        raise ValueError(f"dh has T={T} steps but the cache holds {len(cache)}")
    W_ih = cache[0][3]
    dx = np.empty((N, T, W_ih.shape[1]), dtype=dh.dtype)
    grads = [np.zeros_like(W_ih), np.zeros_like(cache[0][4]), np.zeros(4 * H, dh.dtype), np.zeros(4 * H, dh.dtype)]
    dprev_h = np.zeros((N, H), dh.dtype)
    dprev_c = np.zeros((N, H), dh.dtype) if dc_n is None else np.asarray(dc_n, dh.dtype)
    for t in reversed(range(T)):
        dx[:, t], dprev_h, dprev_c, *step = lstm_step_backward(dh[:, t] + dprev_h, dprev_c, cache[t])
        for total, g in zip(grads, step):
            total += g
    return (dx, dprev_h, dprev_c, *grads)


# --------------------------------------------------------------------------- torch (autograd)

def lstm_cell(x, state, weight_ih, weight_hh, bias_ih, bias_hh):
    """One LSTM step in torch, differentiated by autograd: the same equations as ``nn.LSTMCell``.

    Args:
        x: (N, D).  state: ``(h, c)``, each (N, H).  weight_ih (4H, D), weight_hh (4H, H),
            bias_ih (4H,), bias_hh (4H,): ``nn.LSTMCell``'s parameters.

    Returns:
        ``(next_h, next_c)``, each (N, H).
    """
    h, c = state
    gates = x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh  # (N, 4H)
    i, f, g, o = gates.chunk(4, dim=1)                              # torch's order
    next_c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    next_h = torch.sigmoid(o) * torch.tanh(next_c)
    return next_h, next_c


def lstm_layer(x, state, weight_ih, weight_hh, bias_ih, bias_hh):
    """One LSTM layer over a batch-first sequence, as taught: :func:`lstm_cell` in a loop over time.

    Args:
        x: (N, T, D).  state: ``(h0, c0)``, each (N, H), or None for zeros.

    Returns:
        ``output`` (N, T, H) and ``(h_n, c_n)``, each (N, H): ``nn.LSTM(batch_first=True)``'s
        outputs for one layer (torch's ``h_n`` has a leading layer axis; index it with ``[0]``).
    """
    if x.dim() != 3:
        raise ValueError(f"x must be batch-first (N, T, D), got shape {tuple(x.shape)}")
    N, T, _ = x.shape
    H = weight_hh.shape[1]
    if state is None:
        zeros = x.new_zeros(N, H)
        state = (zeros, zeros)
    outputs = []
    for t in range(T):
        state = lstm_cell(x[:, t], state, weight_ih, weight_hh, bias_ih, bias_hh)
        outputs.append(state[0])
    return torch.stack(outputs, dim=1), state


# --------------------------------------------------------------------------- inspecting a trained LSTM

def lstm_trace(x, W_ih, W_hh, b_ih, b_hh, h0=None, c0=None) -> dict[str, np.ndarray]:
    """Run one sequence through :func:`lstm_step_forward` and keep every gate at every step.

    Args:
        x: (T, D) the inputs of one sequence (for a character model, the embedded characters).
        Weights: as :func:`lstm_params_from_torch` returns them.  h0, c0: (H,) (default zeros).

    Returns:
        ``{"i", "f", "g", "o", "c", "h"}``, each (T, H): the gates after their nonlinearities, the
        cell state and the hidden state after each step.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"x must be one sequence (T, D), got shape {x.shape}")
    H = W_hh.shape[1]
    h = np.zeros((1, H)) if h0 is None else np.asarray(h0, np.float64).reshape(1, H)
    c = np.zeros((1, H)) if c0 is None else np.asarray(c0, np.float64).reshape(1, H)
    out = {k: np.empty((len(x), H)) for k in "ifgoch"}
    for t in range(len(x)):
        h, c, cache = lstm_step_forward(x[t:t + 1], h, c, W_ih, W_hh, b_ih, b_hh)
        for k, v in zip("ifgo", cache[5:9]):
            out[k][t] = v[0]
        out["c"][t], out["h"][t] = c[0], h[0]
    return out


def state_gradient_norms(cell: str, T_max: int, hidden_size: int = 32, input_size: int = 8,
                         forget_bias: float | None = None, seed: int = 0, every: int = 1) -> dict[str, np.ndarray]:
    """How much of a loss at step T reaches the initial state, for T = 1..T_max (autograd, float64).

    A random ``nn.RNN`` (tanh) or ``nn.LSTM`` reads T_max steps of random inputs (one sequence).
    For each T the loss is ``L_T = u · h_T`` with a fixed random unit vector u, and the function
    returns ``||∂L_T/∂h_0||`` (and, for the LSTM, ``||∂L_T/∂c_0||``).

    Args:
        forget_bias: for the LSTM, set the forget gate's total bias to this (None: torch's init).
        every: evaluate T = every, 2 every, ..., up to T_max (one backward pass each).

    Returns:
        ``{"T": (K,), "h0": (K,)}`` plus ``"c0"`` for the LSTM, K = T_max // every.
    """
    import torch

    if cell not in ("rnn", "lstm"):
        raise ValueError(f"cell must be 'rnn' or 'lstm', got {cell!r}")
    torch.manual_seed(seed)
    module = (torch.nn.RNN if cell == "rnn" else torch.nn.LSTM)(input_size, hidden_size, batch_first=True).double()
    if forget_bias is not None:
        if cell != "lstm":
            raise ValueError("forget_bias applies to the LSTM only")
        H = hidden_size
        with torch.no_grad():
            module.bias_ih_l0[H:2 * H] = forget_bias
            module.bias_hh_l0[H:2 * H] = 0.0
    x = torch.randn(1, T_max, input_size, dtype=torch.float64)
    h0 = torch.zeros(1, 1, hidden_size, dtype=torch.float64, requires_grad=True)
    c0 = torch.zeros(1, 1, hidden_size, dtype=torch.float64, requires_grad=True)
    out, _ = module(x, (h0, c0) if cell == "lstm" else h0)
    u = torch.randn(hidden_size, dtype=torch.float64)
    u = u / u.norm()
    wrt = (h0, c0) if cell == "lstm" else (h0,)
    Ts = np.arange(every, T_max + 1, every)
    norms = {"T": Ts, "h0": np.empty(len(Ts))}
    if cell == "lstm":
        norms["c0"] = np.empty(len(Ts))
    for k, T in enumerate(Ts):
        grads = torch.autograd.grad(out[0, T - 1] @ u, wrt, retain_graph=True)
        norms["h0"][k] = float(grads[0].norm())
        if cell == "lstm":
            norms["c0"][k] = float(grads[1].norm())
    return norms
