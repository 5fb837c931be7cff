"""Decoding a sequence model: greedy search, beam search and exhaustive search (lecture 08).

Every search here drives the model through one function,

    ``step_fn(tokens, state) -> (log_probs, state)``,

``tokens`` (B,) the last token of each of B hypotheses, ``log_probs`` (B, V) the model's
log-probabilities of the next token, ``state`` whatever the model carries from step to step
(a tensor, or a tuple/list/dict of tensors, each with the batch in dimension 0; ``None`` for
none). So the searches work for any model: the seq2seq models of ``utils.seq2seq``, a
character language model, or the tiny random model :class:`TinyLM` the tests use.

A hypothesis's score is its log-probability ``log p(y_1..y_n) = sum_t log p(y_t | y_<t)``,
divided by ``n ** alpha`` for length normalisation (``alpha = 0``: plain log-probability, which
favours short outputs; Wu et al. 2016 use a similar penalty with alpha around 0.6-1). ``n``
counts the generated tokens including ``</s>``.

Beam search (beam size k), as used here:

1. start with one live hypothesis, ``<s>``, log-probability 0;
2. expand each live hypothesis by every token: ``k * V`` candidates, scored by log-probability;
3. keep the best ``k - f`` candidates, f the number finished so far (ties: the earlier
   hypothesis, then the smaller token id); those ending in ``</s>`` are **finished** and set
   aside, the others form the new live beam, so the beam shrinks by one for each finished
   hypothesis (Koehn 2020, *Neural Machine Translation*, section 9.4); the rest is pruned;
4. stop when k hypotheses are finished (no live one is left), or after ``max_len`` tokens,
   when the live ones are added as unfinished.

The best candidate of every step is always kept, so the most likely hypothesis so far is never
cut off by poor ones that happen to end: a variant that keeps k live hypotheses and stops at k
finished ones can stop before its best hypothesis has ended, with k improbable early endings.
5. return every finished hypothesis ranked by its normalised score, each read back through
   the back-pointers (the parent slot of every kept token).

All live hypotheses have the same length at a step, so pruning them by log-probability or by
normalised score is the same thing; normalisation only matters when finished hypotheses of
different lengths are ranked. With k = 1 this is greedy search exactly (a test). Beam search
is exhaustive search when it never prunes nor stops early, which ``k >= V ** max_len``
guarantees; it finds the best sequence with k = V whenever ``max_len <= 2``. For longer
outputs a beam smaller than that can miss the best sequence (a *search error*), which
:func:`exhaustive_search` exposes on a tiny model (tests in ``tests/test_decoding.py``).

Shape legend: B hypotheses (or batch), V vocabulary, T steps.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import torch

StepFn = Callable[[torch.Tensor, Any], tuple[torch.Tensor, Any]]


# --------------------------------------------------------------------------- states

def select_state(state: Any, index: torch.Tensor) -> Any:
    """Rows ``index`` of every tensor in ``state`` (batch in dimension 0): reorders and copies beams."""
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return state.index_select(0, index.to(state.device))
    if isinstance(state, dict):
        return {k: select_state(v, index) for k, v in state.items()}
    if isinstance(state, (tuple, list)):
        return type(state)(select_state(v, index) for v in state)
    raise TypeError(f"a decoder state must be a tensor or a tuple/list/dict of tensors, got {type(state).__name__}")


def _check_log_probs(log_probs: torch.Tensor, B: int) -> torch.Tensor:
    if log_probs.ndim != 2 or log_probs.shape[0] != B:
        raise ValueError(f"step_fn must return log_probs of shape (B, V) = ({B}, V), got {tuple(log_probs.shape)}")
    return log_probs


def score(log_prob: float, length: int, alpha: float) -> float:
    """Length-normalised score ``log_prob / length ** alpha``."""
    return log_prob / (max(1, length) ** alpha) if alpha else log_prob


# --------------------------------------------------------------------------- greedy

@torch.no_grad()
def greedy_decode(step_fn: StepFn, state: Any, batch_size: int, start_id: int, end_id: int,
                  max_len: int) -> tuple[list[list[int]], torch.Tensor]:
    """Greedy search for a batch: at each step take the most likely token (ties: the smaller id).

    A greedy choice is final: a token that looks best now is kept even if it makes every
    continuation unlikely. Stops when every row has produced ``</s>`` or after ``max_len`` tokens.

    Returns:
        ``tokens``: N lists of ids, without ``</s>``; ``log_prob`` (N,): each output's
        log-probability (including ``</s>`` where it was produced).
    """
    if max_len < 1:
        raise ValueError(f"max_len must be >= 1, got {max_len}")
    tokens = torch.full((batch_size,), start_id, dtype=torch.long)
    done = torch.zeros(batch_size, dtype=torch.bool)
    total = torch.zeros(batch_size, dtype=torch.float64)
    out: list[list[int]] = [[] for _ in range(batch_size)]
    for _ in range(max_len):
        log_probs, state = step_fn(tokens, state)
        log_probs = _check_log_probs(log_probs, batch_size).detach().cpu()
        tokens = log_probs.argmax(-1)                       # the first maximum on ties
        total += torch.where(done, 0.0, log_probs.gather(1, tokens[:, None])[:, 0].double())
        for i in torch.nonzero(~done).flatten().tolist():
            if int(tokens[i]) != end_id:
                out[i].append(int(tokens[i]))
        done |= tokens == end_id
        if bool(done.all()):
            break
    return out, total


# --------------------------------------------------------------------------- beam search

@dataclass
class Hypothesis:
    """One output of a search: ``tokens`` without ``</s>``; ``finished``: it ended with ``</s>``."""

    tokens: list[int]
    log_prob: float
    score: float
    finished: bool

    @property
    def length(self) -> int:
        """Generated tokens, counting ``</s>`` if produced."""
        return len(self.tokens) + int(self.finished)


@dataclass
class BeamStep:
    """What beam search did at one step (for the beam stepper widget)."""

    t: int
    live: list[tuple[list[int], float]]                     # kept live hypotheses: tokens, log-prob
    finished: list[tuple[list[int], float]]                 # hypotheses finished at this step
    pruned: list[tuple[list[int], float]]                   # the best few candidates that fell off
    expansions: int                                         # candidates scored (live * V)


@dataclass
class BeamResult:
    hypotheses: list[Hypothesis]                            # ranked, best first
    steps: list[BeamStep] = field(default_factory=list)

    @property
    def best(self) -> Hypothesis:
        return self.hypotheses[0]


@torch.no_grad()
def beam_search(step_fn: StepFn, state: Any, start_id: int, end_id: int, max_len: int,
                beam_size: int, alpha: float = 0.0, trace: bool = False, show_pruned: int = 3) -> BeamResult:
    """Beam search for one input (see the module docstring for the exact rules).

    Args:
        step_fn: ``(tokens (B,), state) -> (log_probs (B, V), state)``.
        state: the model's state for this one input (batch dimension 1).
        beam_size: k, how many hypotheses are kept per step.
        alpha: length normalisation exponent for the final ranking (0: none).
        trace: record a :class:`BeamStep` per step (``show_pruned`` of the best pruned candidates).

    Returns:
        :class:`BeamResult`: every finished (and, at ``max_len``, unfinished) hypothesis, best first.
    """
    if beam_size < 1:
        raise ValueError(f"beam_size must be >= 1, got {beam_size}")
    if max_len < 1:
        raise ValueError(f"max_len must be >= 1, got {max_len}")
    k = beam_size
    live_log_prob = torch.zeros(1, dtype=torch.float64)     # (B,)
    last = torch.tensor([start_id])                         # (B,) the token each live hypothesis ends with
    tokens_at: list[torch.Tensor] = []                      # back-pointer tables, one (B_t,) pair per step
    parents_at: list[torch.Tensor] = []
    ended: list[tuple[int, int, int, float]] = []           # (step, parent slot, order, log-prob) of each </s>
    steps: list[BeamStep] = []

    def read_back(t: int, slot: int) -> list[int]:
        out = []
        while t >= 0:
            out.append(int(tokens_at[t][slot]))
            slot = int(parents_at[t][slot])
            t -= 1
        return out[::-1]

    for t in range(max_len):
        log_probs, new_state = step_fn(last, state)
        log_probs = _check_log_probs(log_probs, len(last)).detach().cpu().double()
        V = log_probs.shape[1]
        candidates = (live_log_prob[:, None] + log_probs).reshape(-1)        # (B * V,), beam-major
        order = torch.sort(candidates, descending=True, stable=True).indices  # stable: ties keep index order
        # k slots in all: every finished hypothesis keeps its slot, the live beam gets the rest.
        cut = k - len(ended)
        kept, fell = order[:cut], order[cut:cut + show_pruned]
        parent, token = kept // V, kept % V
        is_end = token == end_id
        for p, lp in zip(parent[is_end].tolist(), candidates[kept[is_end]].tolist()):
            ended.append((t, p, len(ended), lp))
        cont = ~is_end
        if trace:
            prefix = [read_back(t - 1, p) if t else [] for p in range(len(last))]
            steps.append(BeamStep(
                t + 1,
                [(prefix[p] + [tok], lp) for p, tok, lp in zip(parent[cont].tolist(), token[cont].tolist(),
                                                                 candidates[kept[cont]].tolist())],
                [(prefix[p] + [end_id], lp) for p, lp in zip(parent[is_end].tolist(), candidates[kept[is_end]].tolist())],
                [(prefix[int(i) // V] + [int(i) % V], float(candidates[i])) for i in fell],
                len(candidates)))
        if len(ended) >= k:
            break
        if not bool(cont.any()):
            break
        tokens_at.append(token[cont])
        parents_at.append(parent[cont])
        live_log_prob = candidates[kept[cont]]
        last = token[cont]
        state = select_state(new_state, parent[cont])

    hyps = []
    for t, p, _, lp in ended:
        toks = read_back(t - 1, p) if t else []
        hyps.append(Hypothesis(toks, lp, score(lp, len(toks) + 1, alpha), True))
    if len(tokens_at) == max_len:  # stopped by max_len with live hypotheses: they count, unfinished
        for slot, lp in enumerate(live_log_prob.tolist()):
            toks = read_back(max_len - 1, slot)
            hyps.append(Hypothesis(toks, lp, score(lp, len(toks), alpha), False))
    hyps.sort(key=lambda h: -h.score)                      # stable: ties keep the order they were found in
    return BeamResult(hyps, steps)


# --------------------------------------------------------------------------- exhaustive search

@torch.no_grad()
def exhaustive_search(step_fn: StepFn, state: Any, start_id: int, end_id: int, max_len: int,
                      alpha: float = 0.0, limit: int = 200_000) -> list[Hypothesis]:
    """Score *every* output of at most ``max_len`` tokens and rank them (for tiny models only).

    The outputs are every sequence ending in ``</s>`` within ``max_len`` tokens, plus every
    ``max_len``-token sequence without ``</s>`` (cut off, as beam search cuts it off). There are
    about ``V ** max_len`` of them: at step t the search extends ``(V - 1) ** (t - 1)`` prefixes by
    ``V`` tokens each, which is why no real decoder does this.
    """
    prefixes = [[]]
    last = torch.tensor([start_id])
    log_prob = torch.zeros(1, dtype=torch.float64)
    out: list[Hypothesis] = []
    for t in range(max_len):
        log_probs, state = step_fn(last, state)
        log_probs = _check_log_probs(log_probs, len(last)).detach().cpu().double()
        V = log_probs.shape[1]
        if len(prefixes) * V > limit:
            raise ValueError(f"exhaustive search would score {len(prefixes) * V:,} sequences at step {t + 1} "
                             f"(limit {limit:,}): use a smaller vocabulary or max_len")
        total = log_prob[:, None] + log_probs                 # (B, V)
        for b, prefix in enumerate(prefixes):
            lp = float(total[b, end_id])
            out.append(Hypothesis(list(prefix), lp, score(lp, len(prefix) + 1, alpha), True))
        others = [v for v in range(V) if v != end_id]
        parent = torch.tensor([b for b in range(len(prefixes)) for _ in others])
        token = torch.tensor([v for _ in prefixes for v in others])
        prefixes = [prefixes[b] + [v] for b, v in zip(parent.tolist(), token.tolist())]
        log_prob = total[parent, token]
        last = token
        state = select_state(state, parent)
    for prefix, lp in zip(prefixes, log_prob.tolist()):
        out.append(Hypothesis(prefix, lp, score(lp, len(prefix), alpha), False))
    out.sort(key=lambda h: -h.score)
    return out


# --------------------------------------------------------------------------- a tiny model to search

class TinyLM:
    """A tiny random recurrent language model, for checking searches against exhaustive search.

    ``h_t = tanh(W h_{t-1} + E[y_{t-1}])``, ``log p(y_t) = log_softmax(U h_t / temperature)`` over
    ``vocab_size`` output tokens, one of which (``end_id``) is ``</s>``; ``<s>`` is an input-only
    id, ``start_id = vocab_size``. A lower temperature makes sharper predictions. Seeded, float64, CPU.
    """

    def __init__(self, vocab_size: int = 4, hidden_size: int = 6, seed: int = 0, end_id: int = 1,
                 temperature: float = 0.5):
        if not 0 <= end_id < vocab_size:
            raise ValueError(f"end_id must be an output token, 0..{vocab_size - 1}; got {end_id}")
        g = torch.Generator().manual_seed(seed)
        self.V, self.end_id, self.start_id = vocab_size, end_id, vocab_size
        self.E = torch.randn(vocab_size + 1, hidden_size, generator=g, dtype=torch.float64)
        self.W = torch.randn(hidden_size, hidden_size, generator=g, dtype=torch.float64) / hidden_size ** 0.5
        self.U = torch.randn(vocab_size, hidden_size, generator=g, dtype=torch.float64)
        self.temperature = temperature

    def initial_state(self, batch_size: int = 1) -> torch.Tensor:
        return torch.zeros(batch_size, self.E.shape[1], dtype=torch.float64)

    def step(self, tokens: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = torch.tanh(h @ self.W.T + self.E[tokens])                       # (B, H)
        logits = h @ self.U.T / self.temperature                            # (B, V)
        return torch.log_softmax(logits, -1), h

    def sequence_log_prob(self, tokens: Sequence[int], finished: bool = True) -> float:
        """``log p(tokens [+ </s>])`` computed directly, one token at a time."""
        h, last, total = self.initial_state(), torch.tensor([self.start_id]), 0.0
        for tok in list(tokens) + ([self.end_id] if finished else []):
            lp, h = self.step(last, h)
            total += float(lp[0, tok])
            last = torch.tensor([tok])
        return total


def decode_tokens(tokens: Sequence[int], itos: Sequence[str], sep: str = "") -> str:
    """Ids -> text with a vocabulary's ``itos`` list."""
    return sep.join(itos[t] for t in tokens)


def all_sequences(vocab: Sequence[int], max_len: int):
    """Every tuple of ``vocab`` tokens of length 1..``max_len`` (for small checks)."""
    for n in range(1, max_len + 1):
        yield from itertools.product(vocab, repeat=n)
