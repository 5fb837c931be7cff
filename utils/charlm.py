"""Character-level language models: the per-step loss, a fixed-window neural LM, the RNN-LM,
its training recipe, sampling, and validation perplexity.

Shape legend: N batch, T time, E embedding size, H hidden units, V vocabulary, K context
characters of the fixed-window model, L text length. Everything is batch-first: inputs are
``(N, T)`` integer ids, logits ``(N, T, V)``.

Lecture 02 builds these; the numpy loss (``softmax``, ``temporal_softmax_loss``) is the one the
"hello" example computes by hand, and is tested against ``torch.nn.functional.cross_entropy``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


# --------------------------------------------------------------------------- numpy: the loss

def one_hot(ids, V: int) -> np.ndarray:
    """Integer ids of any shape S -> float64 one-hot vectors of shape S + (V,)."""
    ids = np.asarray(ids)
    if ids.size and (ids.min() < 0 or ids.max() >= V):
        raise ValueError(f"ids must lie in [0, {V}), got min {ids.min()} max {ids.max()}")
    return np.eye(V)[ids]


def softmax(scores, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax: subtract the max before exponentiating (same result, no overflow)."""
    scores = np.asarray(scores, dtype=np.float64)
    z = scores - scores.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def temporal_softmax_loss(scores, y, mask=None) -> tuple[float, np.ndarray]:
    """Cross-entropy of a softmax at every time step, averaged over the scored steps.

    Args:
        scores: (N, T, V) unnormalised log-probabilities (logits).
        y: (N, T) integer targets in [0, V).
        mask: (N, T) booleans, which steps count (default: all).

    Returns:
        loss: ``-mean over scored (n, t) of log softmax(scores[n, t])[y[n, t]]`` in nats
            (the same number as ``F.cross_entropy(scores.reshape(N*T, V), y.reshape(N*T))``).
        dscores: (N, T, V) gradient of the loss with respect to ``scores``:
            ``(softmax - one_hot(y)) / number of scored steps`` at scored steps, 0 elsewhere.
    """
    scores = np.asarray(scores, dtype=np.float64)
    y = np.asarray(y)
    if scores.ndim != 3 or y.shape != scores.shape[:2]:
        raise ValueError(f"expected scores (N, T, V) and y (N, T); got {scores.shape} and {y.shape}")
    N, T, V = scores.shape
    mask = np.ones((N, T), bool) if mask is None else np.asarray(mask, bool)
    count = max(int(mask.sum()), 1)
    flat = scores.reshape(N * T, V)                                  # (N*T, V)
    log_p = flat - flat.max(axis=1, keepdims=True)
    log_p = log_p - np.log(np.exp(log_p).sum(axis=1, keepdims=True))  # (N*T, V) log-softmax
    rows, targets, m = np.arange(N * T), y.reshape(-1), mask.reshape(-1)
    loss = -np.sum(log_p[rows, targets] * m) / count
    dflat = np.exp(log_p)
    dflat[rows, targets] -= 1.0
    dflat *= m[:, None] / count
    return float(loss), dflat.reshape(N, T, V)


# --------------------------------------------------------------------------- torch: the models

class FixedWindowLM(nn.Module):
    """Bengio et al. (2003)-style neural LM: embed the last K characters, concatenate, one tanh layer.

    Args:
        vocab_size: V.
        context: K, how many previous characters it sees (fixed: a window, not a memory).
        embedding_dim: E.
        hidden_size: H.

    ``forward(ctx)``: ctx (N, K) ids, oldest first -> logits (N, V) for the next character.
    """

    def __init__(self, vocab_size: int, context: int, embedding_dim: int = 16, hidden_size: int = 128):
        super().__init__()
        self.context = context
        self.embed = nn.Embedding(vocab_size, embedding_dim)
        self.hidden = nn.Linear(context * embedding_dim, hidden_size)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, ctx: torch.Tensor) -> torch.Tensor:
        if ctx.dim() != 2 or ctx.shape[1] != self.context:
            raise ValueError(f"ctx must be (N, K={self.context}) ids, got shape {tuple(ctx.shape)}")
        e = self.embed(ctx).flatten(1)                               # (N, K, E) -> (N, K*E)
        return self.head(torch.tanh(self.hidden(e)))                 # (N, V)


def windows(ids, context: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (context, next character) pair of a text: (L-K, K) contexts and (L-K,) targets."""
    ids = np.asarray(ids)
    idx = np.arange(len(ids) - context)[:, None] + np.arange(context)[None, :]  # (L-K, K)
    return ids[idx], ids[context:]


class CharRNN(nn.Module):
    """RNN language model over characters: embedding -> recurrent layers -> linear readout.

    Args:
        vocab_size: V.
        hidden_size: H.
        num_layers: stacked recurrent layers.
        cell: "rnn" (tanh, ``nn.RNN``), "gru" or "lstm".
        embedding_dim: E (default ``min(H, 64)``). An embedding lookup is the product of a
            one-hot vector with a weight matrix: it picks one column, without the multiply.
        dropout: between stacked layers (``nn.RNN``'s ``dropout``).
        nonlinearity: "tanh" or "relu", for ``cell="rnn"`` only (``nn.RNN``'s ``nonlinearity``);
            lecture 04 uses a ReLU RNN to make gradients explode.

    ``forward(x, h=None)``: x (N, T) int64 ids, batch-first; h the state from the previous
    chunk (``None`` = zeros) -> ``(logits (N, T, V), h)`` where h is (num_layers, N, H), or a
    pair ``(h, c)`` for an LSTM. Carry h across chunks for truncated BPTT, after ``detach_hidden``.
    """

    def __init__(self, vocab_size: int, hidden_size: int, num_layers: int = 1, cell: str = "rnn",
                 embedding_dim: int | None = None, dropout: float = 0.0, nonlinearity: str = "tanh"):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
        if nonlinearity != "tanh" and cell != "rnn":
            raise ValueError(f"nonlinearity={nonlinearity!r} applies to cell='rnn' only (got cell={cell!r})")
        extra = {"nonlinearity": nonlinearity} if cell == "rnn" else {}
        self.vocab_size, self.hidden_size, self.num_layers, self.cell = vocab_size, hidden_size, num_layers, cell
        embedding_dim = embedding_dim or min(hidden_size, 64)
        self.embed = nn.Embedding(vocab_size, embedding_dim)
        self.rnn = CELLS[cell](embedding_dim, hidden_size, num_layers, batch_first=True,
                               dropout=dropout if num_layers > 1 else 0.0, **extra)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, x: torch.Tensor, h=None):
        if x.dim() != 2 or x.dtype != torch.long:
            raise ValueError(f"x must be (N, T) int64 ids, got shape {tuple(x.shape)} dtype {x.dtype}")
        out, h = self.rnn(self.embed(x), h)                          # (N, T, E) -> (N, T, H)
        return self.head(out), h                                     # (N, T, V)


def train_lm(model: CharRNN, train_ids, *, steps: int, batch_size: int = 64, seq_len: int = 32,
             lr: float = 1e-2, clip_norm: float | None = 1.0, eval_fn=None, eval_every: int | None = None,
             live_plot: bool | None = None, plot_every: int = 25, desc: str = "LM"):
    """Lecture 02's recipe for a character LM; returns the ``utils.train.History``.

    * The training ids are cut into ``batch_size`` contiguous streams read ``seq_len`` characters at
      a time (``utils.data.StreamBatches``), the hidden state carried from chunk to chunk and
      detached (truncated BPTT, lecture 03).
    * Teacher forcing: the input at every step is the true previous character, never the model's guess.
    * Adam at a peak learning rate ``lr`` with a one-cycle schedule (warm up over the first 10% of
      the steps, then anneal towards 0: with a short budget, ending at a small rate matters).
    * Gradients clipped to global norm ``clip_norm`` (lecture 04).

    ``eval_fn``, ``eval_every``, ``live_plot``, ``plot_every`` and ``desc`` are passed to
    ``utils.train.train``. Runs on the model's device.
    """
    from .data import StreamBatches
    from .train import train

    device, V = _device_of(model), model.vocab_size
    state = {"h": None}

    def loss_fn(batch):
        x, y = (torch.as_tensor(a, device=device) for a in batch)   # (N, T) ids each
        logits, h = model(x, state["h"])                            # (N, T, V)
        state["h"] = detach_hidden(h)                               # carry the state, cut the graph
        return F.cross_entropy(logits.reshape(-1, V), y.reshape(-1))

    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps, pct_start=0.1)
    optimizer.register_step_post_hook(lambda *_: schedule.step())
    return train(model, optimizer, StreamBatches(train_ids, batch_size, seq_len), loss_fn, steps=steps,
                 clip_norm=clip_norm, eval_fn=eval_fn, eval_every=eval_every, live_plot=live_plot,
                 plot_every=plot_every, desc=desc)


def detach_hidden(h):
    """Cut the graph behind a carried state (a tensor, an LSTM ``(h, c)`` pair, or None)."""
    if h is None:
        return None
    if isinstance(h, tuple):
        return tuple(t.detach() for t in h)
    return h.detach()


def _device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def sample(model: CharRNN, vocab, prefix: str = "\n", length: int = 200, temperature: float = 1.0,
           generator: torch.Generator | None = None, seed: int | None = None, device=None) -> str:
    """Generate ``length`` characters, each drawn from the model and fed back in as the next input.

    Args:
        model: a CharRNN (anything with ``forward(x (N, T), h) -> (logits (N, T, V), h)``).
        vocab: a ``utils.data.Vocab`` (``encode``/``decode``).
        prefix: text to condition on first (at least one character).
        temperature: divides the logits; < 1 sharpens, > 1 flattens, 0 picks the argmax (greedy).
        generator: a ``torch.Generator`` for the draws; or ``seed`` to make one. Neither: torch's
            global generator.
        device: where to compute (default: the model's device).

    Returns:
        the generated characters only (``len == length``), not the prefix.
    """
    if not prefix:
        raise ValueError("prefix must hold at least one character (the first input)")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    device = torch.device(device) if device is not None else _device_of(model)
    if generator is None and seed is not None:
        generator = torch.Generator(device=device).manual_seed(seed)
    was_training = model.training
    model.eval()
    x = torch.as_tensor(vocab.encode(prefix), device=device).view(1, -1)  # (1, T_prefix)
    logits, h = model(x)
    out = []
    for _ in range(length):
        last = logits[0, -1].double()                                # (V,)
        if temperature < 1e-6:
            nxt = int(last.argmax())
        else:
            probs = torch.softmax(last / temperature, dim=-1)
            nxt = int(torch.multinomial(probs, 1, generator=generator))
        out.append(nxt)
        logits, h = model(torch.tensor([[nxt]], device=device), h)
    model.train(was_training)
    return vocab.decode(out)


@torch.no_grad()
def evaluate_loss(model: CharRNN, ids, batch_size: int = 1, seq_len: int = 256, device=None,
                  carry_state: bool = True) -> float:
    """Mean cross-entropy (nats per character) of predicting ``ids[t+1]`` from ``ids[:t+1]``.

    The text is cut into ``batch_size`` contiguous streams; each is read in chunks of ``seq_len``
    with the hidden state carried from chunk to chunk, so every prediction sees the whole text
    of its stream before it. With ``batch_size=1`` every one of the ``L - 1`` targets is scored
    (the same targets as ``NGramLM.cross_entropy(ids)``); otherwise a remainder of fewer than
    ``batch_size`` characters is dropped.

    ``carry_state=False`` starts every chunk from the zero state instead (the model then sees at
    most ``seq_len`` characters of context: what resetting the state costs).
    """
    ids = np.asarray(ids)
    if len(ids) < 2:
        raise ValueError("need at least 2 ids to score a prediction")
    device = torch.device(device) if device is not None else _device_of(model)
    per_stream = (len(ids) - 1) // batch_size
    if per_stream < 1:
        raise ValueError(f"{len(ids)} ids are too few for batch_size={batch_size}")
    usable = per_stream * batch_size
    x_all = torch.as_tensor(ids[:usable], device=device).view(batch_size, per_stream)       # (N, L/N)
    y_all = torch.as_tensor(ids[1:usable + 1], device=device).view(batch_size, per_stream)  # (N, L/N)
    was_training = model.training
    model.eval()
    h, total = None, 0.0
    for start in range(0, per_stream, seq_len):
        x, y = x_all[:, start:start + seq_len], y_all[:, start:start + seq_len]  # (N, T)
        logits, h = model(x, h if carry_state else None)             # (N, T, V)
        total += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]).double(),
                                       y.reshape(-1), reduction="sum"))
    model.train(was_training)
    return total / usable


def perplexity(model: CharRNN, ids, batch_size: int = 1, seq_len: int = 256, device=None) -> float:
    """``exp(evaluate_loss(...))``: the effective number of equally likely next characters."""
    return math.exp(evaluate_loss(model, ids, batch_size, seq_len, device))
