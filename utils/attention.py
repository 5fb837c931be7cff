"""Attention (lecture 09): scores, masking, the weighted context, and multi-head attention, in torch.

A decoder state (the *query*) ``s_t`` looks at the encoder states (the *keys*, here also the
*values*) ``h_1..h_S``::

    e_i   = score(s_t, h_i)                 one number per source position
    alpha = softmax(e)                      over the S positions, padded ones excluded
    a_t   = sum_i alpha_i h_i               the context vector

Three scores (Luong et al. 2015, Bahdanau et al. 2015):

=============  ====================================  ===========================================
``dot``        ``s^T h``                             no parameters; needs the same size
``general``    ``s^T W h``                           bilinear, ``W`` (H_q, H_k)
``additive``   ``v^T tanh(W_q s + W_k h)``           Bahdanau's MLP, ``W_q`` (A, H_q), ``W_k`` (A, H_k), ``v`` (A,)
=============  ====================================  ===========================================

Padded source positions get weight exactly 0 (their score is set to ``-inf`` before the
softmax), so they receive no gradient either (``tests/test_attention.py``). Each function also
takes a whole sequence of queries at once (N, T, H_q), which is how a teacher-forced decoder
computes all its steps in one go.

:class:`MultiHeadAttention` splits queries, keys and values into ``num_heads`` heads, attends in
each, **concatenates** the heads and projects them with ``W_o`` (Vaswani et al. 2017); with
the same weights it equals ``torch.nn.MultiheadAttention`` (a test).

Shape legend: N batch, T query steps, S source positions, H_q / H_k sizes, A attention size.
"""

from __future__ import annotations

import math

import torch
from torch import nn

SCORES = ("dot", "general", "additive")


def _as_queries(query: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """(N, H) -> (N, 1, H), remembering to squeeze the result back."""
    if query.ndim == 2:
        return query[:, None], True
    if query.ndim == 3:
        return query, False
    raise ValueError(f"query must be (N, H) or (N, T, H), got shape {tuple(query.shape)}")


def _check_keys(query: torch.Tensor, keys: torch.Tensor) -> None:
    if keys.ndim != 3 or keys.shape[0] != query.shape[0]:
        raise ValueError(f"keys must be (N, S, H_k) with the query's N = {query.shape[0]}, got {tuple(keys.shape)}")


def dot_scores(query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """``e[n, t, i] = query[n, t] . keys[n, i]``: (N, T, H) x (N, S, H) -> (N, T, S) (or (N, S) for an (N, H) query)."""
    q, squeeze = _as_queries(query)
    _check_keys(q, keys)
    if q.shape[-1] != keys.shape[-1]:
        raise ValueError(f"dot scores need queries and keys of one size, got {q.shape[-1]} and {keys.shape[-1]}: "
                         f"use 'general' or 'additive' scores, or project one of them")
    e = q @ keys.transpose(1, 2)                          # (N, T, H) @ (N, H, S) -> (N, T, S)
    return e[:, 0] if squeeze else e


def general_scores(query: torch.Tensor, keys: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """``e = query^T W key`` with ``W`` (H_q, H_k): the bilinear score of Luong et al. (2015)."""
    q, squeeze = _as_queries(query)
    _check_keys(q, keys)
    e = (q @ W) @ keys.transpose(1, 2)                    # (N, T, H_q) @ (H_q, H_k) -> (N, T, H_k); then -> (N, T, S)
    return e[:, 0] if squeeze else e


def additive_scores(query: torch.Tensor, keys: torch.Tensor, W_q: torch.Tensor, W_k: torch.Tensor,
                    v: torch.Tensor) -> torch.Tensor:
    """``e = v^T tanh(W_q query + W_k key)`` (Bahdanau et al. 2015); ``W_q`` (A, H_q), ``W_k`` (A, H_k), ``v`` (A,)."""
    q, squeeze = _as_queries(query)
    _check_keys(q, keys)
    hidden = torch.tanh((q @ W_q.T)[:, :, None, :] + (keys @ W_k.T)[:, None, :, :])   # (N, T, S, A)
    e = hidden @ v                                        # (N, T, S)
    return e[:, 0] if squeeze else e


def length_mask(lengths: torch.Tensor, max_len: int | None = None) -> torch.Tensor:
    """(N,) lengths -> (N, S) bool mask, True at real positions, False at padding."""
    lengths = torch.as_tensor(lengths)
    S = int(lengths.max()) if max_len is None else max_len
    return torch.arange(S, device=lengths.device)[None, :] < lengths[:, None]


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Softmax over the last axis (S), with masked-out (False) positions given weight exactly 0.

    Args:
        scores: (N, S) or (N, T, S).
        mask: (N, S) bool, True where a position may be attended to (broadcast over T), or one
            mask per query, shaped like ``scores``; ``None``: all positions.

    Raises:
        ValueError: a row with no position to attend to (its softmax would be 0/0 = NaN).
    """
    if mask is None:
        return torch.softmax(scores, dim=-1)
    if mask.ndim not in (2, scores.ndim) or mask.shape[0] != scores.shape[0] or mask.shape[-1] != scores.shape[-1]:
        raise ValueError(f"mask {tuple(mask.shape)} does not match scores {tuple(scores.shape)}: expected (N, S)")
    if not bool(mask.any(-1).all()):
        raise ValueError("a row of the mask is all False: every sequence needs at least one real position")
    if scores.ndim == 3 and mask.ndim == 2:
        mask = mask[:, None, :]
    return torch.softmax(scores.masked_fill(~mask, -torch.inf), dim=-1)


def context(weights: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """``a = sum_i alpha_i values_i``: (N, S) or (N, T, S) weights, (N, S, H) values -> (N, H) or (N, T, H)."""
    if weights.ndim == 2:
        return (weights[:, None, :] @ values)[:, 0]       # (N, 1, S) @ (N, S, H) -> (N, H)
    return weights @ values                               # (N, T, S) @ (N, S, H) -> (N, T, H)


def hard_weights(weights: torch.Tensor) -> torch.Tensor:
    """Hard attention at inference: all the weight on the most-attended position (one-hot, no gradient)."""
    return torch.zeros_like(weights).scatter_(-1, weights.argmax(-1, keepdim=True), 1.0)


def window_mask(centres: torch.Tensor, S: int, half_width: int) -> torch.Tensor:
    """Local attention (Luong et al. 2015): only positions ``|i - p_t| <= D`` are visible.

    Args:
        centres: p_t, (N,) or (N, T), real-valued window centres.
        S: source length; half_width: D.

    Returns:
        bool mask (N, S) or (N, T, S).
    """
    i = torch.arange(S, device=centres.device, dtype=torch.float32)
    return (i - centres[..., None].float()).abs() <= half_width


class Attention(nn.Module):
    """One attention layer: ``score`` in {"dot", "general", "additive"}; returns the context and weights.

    ``forward(query (N, H_q) or (N, T, H_q), keys (N, S, H_k), mask (N, S) or None, values=keys)``
    -> ``(context (N, [T,] H_v), weights (N, [T,] S))``.

    ``mode`` changes how a trained layer attends, to compare on one model: "soft" (the default),
    "hard" (all the weight on the argmax: a one-hot) and "local" (only the ``half_width`` positions
    either side of the soft peak stay visible, renormalised; Luong et al.'s local-p predicts the
    centre with a learned layer instead of taking the peak).
    """

    def __init__(self, query_size: int, key_size: int, score: str = "dot", attention_size: int | None = None):
        super().__init__()
        if score not in SCORES:
            raise ValueError(f"score must be one of {SCORES}, got {score!r}")
        if score == "dot" and query_size != key_size:
            raise ValueError(f"dot scores need query_size == key_size, got {query_size} and {key_size}")
        self.score, self.mode, self.half_width = score, "soft", 2
        if score == "general":
            self.W = nn.Parameter(torch.empty(query_size, key_size))
            nn.init.xavier_uniform_(self.W)
        elif score == "additive":
            A = attention_size or key_size
            self.W_q = nn.Linear(query_size, A, bias=False)
            self.W_k = nn.Linear(key_size, A, bias=False)
            self.v = nn.Parameter(torch.empty(A).uniform_(-1 / math.sqrt(A), 1 / math.sqrt(A)))

    def scores(self, query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        if self.score == "dot":
            return dot_scores(query, keys)
        if self.score == "general":
            return general_scores(query, keys, self.W)
        return additive_scores(query, keys, self.W_q.weight, self.W_k.weight, self.v)

    def forward(self, query: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor | None = None,
                values: torch.Tensor | None = None, window: torch.Tensor | None = None):
        """``window``: an extra (N, [T,] S) bool mask for local attention (combined with ``mask``)."""
        e = self.scores(query, keys)
        visible = None if mask is None else (mask if e.ndim == 2 else mask[:, None, :]).expand_as(e)
        if window is not None:
            visible = window if visible is None else window & visible
        weights = masked_softmax(e, visible)
        if self.mode == "hard":
            weights = hard_weights(weights)
        elif self.mode == "local":
            near = window_mask(weights.argmax(-1).float(), e.shape[-1], self.half_width)
            weights = masked_softmax(e, near if visible is None else near & visible)
        elif self.mode != "soft":
            raise ValueError(f"mode must be 'soft', 'hard' or 'local', got {self.mode!r}")
        return context(weights, keys if values is None else values), weights


class MultiHeadAttention(nn.Module):
    """Multi-head scaled dot-product attention: heads attend separately, are concatenated, then projected.

    ``head_i = softmax(Q W_q_i (K W_k_i)^T / sqrt(d)) V W_v_i`` with d = ``embed_dim / num_heads``;
    ``out = concat(head_1..head_h) W_o``. Parameter names follow ``nn.MultiheadAttention``
    (``in_proj_weight`` (3E, E) holds W_q, W_k, W_v stacked; ``out_proj``), so weights copy across.

    ``forward(query (N, T, E), key (N, S, E), value (N, S, E), mask (N, S) or None)`` ->
    ``(out (N, T, E), weights (N, num_heads, T, S))``. Self-attention: query = key = value.
    """

    def __init__(self, embed_dim: int, num_heads: int):
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})")
        self.E, self.h, self.d = embed_dim, num_heads, embed_dim // num_heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * embed_dim, embed_dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * embed_dim))
        self.out_proj = nn.Linear(embed_dim, embed_dim)
        nn.init.xavier_uniform_(self.in_proj_weight)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        N, L, _ = x.shape
        return x.reshape(N, L, self.h, self.d).transpose(1, 2)          # (N, L, E) -> (N, h, L, d)

    def forward(self, query, key, value, mask: torch.Tensor | None = None):
        W_q, W_k, W_v = self.in_proj_weight.chunk(3)
        b_q, b_k, b_v = self.in_proj_bias.chunk(3)
        q = self._split(query @ W_q.T + b_q)
        k = self._split(key @ W_k.T + b_k)
        v = self._split(value @ W_v.T + b_v)
        e = q @ k.transpose(-1, -2) / math.sqrt(self.d)                 # (N, h, T, S)
        if mask is not None:
            if not bool(mask.any(-1).all()):
                raise ValueError("a row of the mask is all False: every sequence needs at least one real position")
            e = e.masked_fill(~mask[:, None, None, :], -torch.inf)
        weights = torch.softmax(e, -1)
        heads = weights @ v                                             # (N, h, T, d)
        N, _, T, _ = heads.shape
        concat = heads.transpose(1, 2).reshape(N, T, self.E)            # (N, T, h * d): heads side by side
        return self.out_proj(concat), weights
