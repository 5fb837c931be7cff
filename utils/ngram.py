"""A character n-gram language model by counting: add-δ smoothing and backoff.

An order-``n`` model predicts the next character from the ``n - 1`` before it::

    P(c | context) = count(context + c) / count(context)          (maximum likelihood)

Counts of unseen pairs are zero (sparsity), so the model needs a rule for them:

* ``smoothing="add-delta"``: pretend every character was seen ``δ`` extra times,
  ``P(c | ctx) = (count(ctx, c) + δ) / (count(ctx) + δ V)``. A context never seen at all
  gives the uniform distribution.
* ``smoothing="backoff"``: absolute-discount backoff (Katz's idea with a fixed discount ``d``).
  Seen characters keep ``(count(ctx, c) - d) / count(ctx)``; the mass taken away,
  ``d · types(ctx) / count(ctx)``, is shared among the unseen characters in proportion to the
  order-``(n-1)`` model's probabilities (recursively, down to an add-δ unigram). An unseen
  context backs off entirely; a context followed by all V characters keeps its plain counts.
  Every distribution sums to 1.

Positions near the start of a text have fewer than ``n - 1`` characters before them; they use
the longest context available (the order-``k`` counts, which the model keeps for every k ≤ n).

Shape legend: L text length (ids), V vocabulary, K number of contexts scored at once.
Everything is numpy; counting is vectorised (a context is packed into one base-V integer).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

SMOOTHINGS = ("add-delta", "backoff")


class NGramLM:
    """Counting character language model of order ``n`` (``n - 1`` characters of context).

    Args:
        order: n >= 1 (1 = unigram: no context).
        vocab_size: V.
        smoothing: "add-delta" or "backoff" (see the module docstring).
        delta: δ for add-δ (also the unigram floor of backoff, so no character has probability 0).
        discount: d in (0, 1) for backoff.

    >>> lm = NGramLM(order=2, vocab_size=4, delta=1.0).fit(np.array([0, 1, 2, 2, 3]))
    >>> lm.prob([2])            # after id 2: seen 2 once, 3 once -> (1+1, 1+1, ...) / (2 + 4)
    array([0.16666667, 0.16666667, 0.33333333, 0.33333333])
    """

    def __init__(self, order: int, vocab_size: int, smoothing: str = "add-delta",
                 delta: float = 1.0, discount: float = 0.75):
        if order < 1:
            raise ValueError(f"order must be >= 1, got {order}")
        if vocab_size < 1 or vocab_size ** max(order - 1, 1) >= 2 ** 62:
            raise ValueError(f"vocab_size={vocab_size} with order={order} is out of range")
        if smoothing not in SMOOTHINGS:
            raise ValueError(f"smoothing must be one of {SMOOTHINGS}, got {smoothing!r}")
        if delta < 0 or (smoothing == "backoff" and delta == 0):
            raise ValueError(f"delta must be >= 0 (> 0 for backoff), got {delta}")
        if not 0 < discount < 1:
            raise ValueError(f"discount must be in (0, 1), got {discount}")
        self.order, self.V = order, vocab_size
        self.smoothing, self.delta, self.discount = smoothing, float(delta), float(discount)
        self._tables: list[tuple[np.ndarray, np.ndarray]] | None = None

    def __repr__(self) -> str:
        extra = f"delta={self.delta:g}" if self.smoothing == "add-delta" else f"discount={self.discount:g}"
        return f"NGramLM(order={self.order}, V={self.V}, smoothing={self.smoothing!r}, {extra})"

    # ------------------------------------------------------------------ counting

    def fit(self, ids) -> "NGramLM":
        """Count every k-gram (k = 1..n) of ``ids`` (L,) and return ``self``."""
        ids = self._check_ids(ids, "ids")
        tables = []
        for k in range(1, self.order + 1):  # k-gram = (k-1) context chars + 1 next char
            if len(ids) < k:
                tables.append((np.zeros(0, np.int64), np.zeros((0, self.V), np.int64)))
                continue
            codes = _pack(ids, k - 1, self.V, len(ids) - k + 1)      # (L-k+1,) context codes
            nxt = ids[k - 1:]                                        # (L-k+1,) next ids
            keys, counts = np.unique(codes * self.V + nxt, return_counts=True)
            ctx_codes, rows = np.unique(keys // self.V, return_inverse=True)
            table = np.zeros((len(ctx_codes), self.V), np.int64)     # (contexts, V)
            table[rows, keys % self.V] = counts
            tables.append((ctx_codes, table))
        self._tables = tables
        return self

    def counts(self, context: Sequence[int]) -> np.ndarray:
        """(V,) counts of each next character after ``context`` (its last ``n-1`` ids are used)."""
        ctx = self._check_ids(context, "context")[max(0, len(context) - (self.order - 1)):]
        return self._counts_batch(np.array([_pack_one(ctx, self.V)]), len(ctx))[0]

    # ------------------------------------------------------------------ probabilities

    def prob(self, context: Sequence[int]) -> np.ndarray:
        """(V,) distribution of the next character after ``context`` (uses its last n-1 ids)."""
        ctx = self._check_ids(context, "context")[max(0, len(context) - (self.order - 1)):]
        return self._probs_batch(np.array([_pack_one(ctx, self.V)]), len(ctx))[0]

    def log_probs(self, ids) -> np.ndarray:
        """Natural-log probability of every character of ``ids`` but the first, given what precedes it.

        Returns (L-1,): entry ``t-1`` is ``log P(ids[t] | ids[max(0, t-n+1):t])``. Position ``t``
        uses a context of ``min(t, n-1)`` characters (the first ``n-2`` positions use shorter ones).
        """
        ids = self._check_ids(ids, "ids")
        if len(ids) < 2:
            raise ValueError("need at least 2 ids to score a prediction")
        out = np.empty(len(ids) - 1)
        c = self.order - 1
        for t in range(1, min(c, len(ids))):                         # short contexts at the start
            out[t - 1] = np.log(self._probs_batch(np.array([_pack_one(ids[:t], self.V)]), t)[0, ids[t]])
        start = max(c, 1)                                            # first t with a full context
        if len(ids) > start:
            codes = _pack(ids[start - c:], c, self.V, len(ids) - start)  # (K,) contexts of ids[start:]
            probs = self._probs_batch(codes, c)                      # (K, V)
            out[start - 1:] = np.log(probs[np.arange(len(codes)), ids[start:]])
        return out

    def cross_entropy(self, ids) -> float:
        """Mean negative log-likelihood in nats per character over ``ids[1:]``."""
        return float(-self.log_probs(ids).mean())

    def perplexity(self, ids) -> float:
        """``exp(cross_entropy)``: the effective number of equally likely next characters."""
        return float(np.exp(self.cross_entropy(ids)))

    def sample(self, prefix: Sequence[int], length: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``length`` ids one at a time, each conditioned on the ones before."""
        out = list(self._check_ids(prefix, "prefix")) if len(prefix) else []
        for _ in range(length):
            p = self.prob(out[max(0, len(out) - (self.order - 1)):]) if out else self.prob([])
            out.append(int(rng.choice(self.V, p=p)))
        return np.array(out[len(prefix):], dtype=np.int64)

    # ------------------------------------------------------------------ internals

    def _check_ids(self, ids, name: str) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64).reshape(-1) if len(ids) else np.zeros(0, np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= self.V):
            raise ValueError(f"{name} holds ids outside [0, {self.V}): min {ids.min()}, max {ids.max()}")
        return ids

    def _fitted(self) -> list[tuple[np.ndarray, np.ndarray]]:
        if self._tables is None:
            raise RuntimeError("call fit(train_ids) before asking for probabilities")
        return self._tables

    def _counts_batch(self, codes: np.ndarray, c: int) -> np.ndarray:
        """(K,) context codes of length c -> (K, V) counts (zeros for unseen contexts)."""
        ctx_codes, table = self._fitted()[c]
        out = np.zeros((len(codes), self.V), np.int64)
        if len(ctx_codes):
            pos = np.minimum(np.searchsorted(ctx_codes, codes), len(ctx_codes) - 1)
            hit = ctx_codes[pos] == codes
            out[hit] = table[pos[hit]]
        return out

    def _probs_batch(self, codes: np.ndarray, c: int) -> np.ndarray:
        """(K,) context codes of c characters -> (K, V) next-character distributions."""
        unique, inverse = np.unique(codes, return_inverse=True)
        if len(unique) < len(codes):                                 # a text repeats its contexts:
            return self._probs_batch(unique, c)[inverse]             # compute each one once
        counts = self._counts_batch(codes, c).astype(np.float64)     # (K, V)
        total = counts.sum(axis=1, keepdims=True)                    # (K, 1)
        if self.smoothing == "add-delta" or c == 0:
            if self.delta == 0:
                with np.errstate(invalid="ignore", divide="ignore"):
                    return np.where(total > 0, counts / total, 1.0 / self.V)
            return (counts + self.delta) / (total + self.delta * self.V)
        lower = self._probs_batch(codes % self.V ** (c - 1), c - 1)  # drop the oldest character
        seen = counts > 0
        safe_total = np.maximum(total, 1.0)
        kept = np.where(seen, (counts - self.discount) / safe_total, 0.0)           # discounted ML
        left = self.discount * seen.sum(axis=1, keepdims=True) / safe_total         # mass set aside
        unseen_lower = np.where(seen, 0.0, lower).sum(axis=1, keepdims=True)
        alpha = left / np.maximum(unseen_lower, 1e-300)
        probs = kept + np.where(seen, 0.0, alpha * lower)
        probs = np.where(unseen_lower > 0, probs, counts / safe_total)  # all V seen: nothing to share
        return np.where(total > 0, probs, lower)                     # unseen context: back off fully


def tune(train_ids, val_ids, vocab_size: int, orders: Sequence[int] = range(1, 7),
         deltas: Sequence[float] = (0.01, 0.1, 1.0), discounts: Sequence[float] = (0.5, 0.75)
         ) -> tuple[NGramLM, dict[tuple[str, int, float], float]]:
    """Fit every (smoothing, order, δ or d) on ``train_ids`` and keep the best on ``val_ids``.

    Only the validation text chooses; report the chosen model on a third, test text.

    Returns:
        best: the fitted model with the lowest validation perplexity.
        results: ``(smoothing, order, δ or d) -> validation perplexity`` for every setting tried.
    """
    results, best, best_ppl = {}, None, np.inf
    for n in orders:
        settings = [("add-delta", n, d, {"delta": d}) for d in deltas]
        settings += [("backoff", n, d, {"discount": d}) for d in discounts]
        for smoothing, order, param, kwargs in settings:
            model = NGramLM(order, vocab_size, smoothing, **kwargs).fit(train_ids)
            results[(smoothing, order, param)] = ppl = model.perplexity(val_ids)
            if ppl < best_ppl:
                best, best_ppl = model, ppl
    if best is None:
        raise ValueError("nothing to tune: give at least one order and one delta or discount")
    return best, results


def _pack(ids: np.ndarray, c: int, V: int, count: int) -> np.ndarray:
    """Codes of the windows ``ids[i:i+c]``, i = 0..count-1, in base V (oldest digit first) -> (count,)."""
    codes = np.zeros(count, np.int64)
    for j in range(c):
        codes = codes * V + ids[j:j + count]
    return codes


def _pack_one(ctx: np.ndarray, V: int) -> int:
    code = 0
    for i in ctx:
        code = code * V + int(i)
    return code
