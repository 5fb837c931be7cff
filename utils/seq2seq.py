"""Encoder-decoder models in torch (lectures 08-09): with and without attention, greedy and beam decoding.

* :class:`Encoder`: embedding, then a recurrent layer (bidirectional by default) over the source;
  returns every position's state (for attention) and a summary state (for the decoder's start).
* :class:`Decoder`: embedding, a recurrent layer, and an output layer. Without attention the
  output layer reads ``s_t`` only, so everything the decoder knows about the source passed
  through the encoder's final state, the **bottleneck** (Sutskever et al. 2014). With attention
  it reads ``[a_t; s_t]``, the context vector and the state (Luong et al. 2015):
  ``h~_t = tanh(W_c [a_t; s_t])``, ``p(y_t) = softmax(W_out h~_t)``. With ``input_feeding`` the
  previous ``h~_{t-1}`` is also fed into the next step's input (Luong's input feeding: the
  decoder knows what it attended to before); without it, a teacher-forced decoder runs all
  steps in one call of the recurrent layer and all attention in one batched product.
* :class:`Seq2Seq`: both, trained with **teacher forcing** (the decoder reads the true previous
  token, not its own guess; at test time it reads its own, and errors it never saw in training
  compound: *exposure bias*). ``step_fn`` adapts it to :mod:`utils.decoding`.

The recurrent layer is a constructor argument ``cell`` (default ``torch.nn.GRU``; ``nn.LSTM``
works, and so does a from-scratch layer such as ``functools.partial(utils.layers.StackedRNN, "gru")``,
see :func:`make_rnn`): lectures 05-07 show the from-scratch LSTM and GRU equal torch's, and
``tests/test_seq2seq.py`` checks the seq2seq model built on them equals the one built on ``nn.GRU``.

Shape legend: N batch, S source length, T target length, E embedding, H hidden, V vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from torch import nn

from .attention import Attention, length_mask
from .bleu import corpus_bleu
from .decoding import beam_search, greedy_decode
from .seqdata import END_ID, PAD_ID, START_ID, Batch, Pairs, Seq2SeqData


def _first(state):
    """The hidden state h of a GRU/RNN state, or of an LSTM's (h, c)."""
    return state[0] if isinstance(state, tuple) else state


def make_rnn(cell, input_size: int, hidden_size: int, bidirectional: bool = False) -> nn.Module:
    """Build the recurrent layer: ``cell`` is ``nn.GRU`` / ``nn.LSTM`` / ``nn.RNN`` (batch-first), or any
    callable ``cell(input_size, hidden_size, bidirectional=...)`` returning a batch-first layer with
    torch's ``forward(x, hx) -> (output, h_n)`` that also takes ``lengths=`` (as
    ``utils.layers.StackedRNN`` does: ``functools.partial(StackedRNN, "gru")``)."""
    if isinstance(cell, type) and issubclass(cell, nn.RNNBase):
        return cell(input_size, hidden_size, batch_first=True, bidirectional=bidirectional)
    return cell(input_size, hidden_size, bidirectional=bidirectional)


def _is_lstm(rnn: nn.Module) -> bool:
    return isinstance(rnn, nn.LSTM) or getattr(rnn, "mode", None) == "lstm"


class Encoder(nn.Module):
    """``forward(src (N, S), lengths (N,)) -> (outputs (N, S, H_out), summary (N, H_out))``.

    ``H_out = hidden_size * (2 if bidirectional else 1)``. Padded positions are skipped
    (``pack_padded_sequence``), so the summary is each sequence's own last state (both
    directions concatenated), never a state that has read padding.
    """

    def __init__(self, vocab_size: int, embed_size: int, hidden_size: int, bidirectional: bool = True,
                 cell: type[nn.Module] = nn.GRU):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=PAD_ID)
        self.rnn = make_rnn(cell, embed_size, hidden_size, bidirectional)
        self.output_size = hidden_size * (2 if bidirectional else 1)

    def forward(self, src: torch.Tensor, lengths: torch.Tensor):
        x = self.embedding(src)                                             # (N, S, E)
        if isinstance(self.rnn, nn.RNNBase):
            packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            out, state = self.rnn(packed)
            out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        else:                                                               # a from-scratch layer skips padding itself
            out, state = self.rnn(x, lengths=lengths)
        h = _first(state)                                                   # (directions, N, H)
        summary = torch.cat(list(h), dim=-1)                                # (N, directions * H)
        return out, summary


@dataclass
class Memory:
    """What the decoder reads from the encoder: states (N, S, H_mem), their mask (N, S), the summary."""

    states: torch.Tensor
    mask: torch.Tensor
    summary: torch.Tensor

    def rows(self, index: torch.Tensor) -> "Memory":
        return Memory(self.states[index], self.mask[index], self.summary[index])


class Decoder(nn.Module):
    """A recurrent decoder, with ``attention`` in {None, "dot", "general", "additive"}.

    ``forward(tgt_in (N, T), memory)`` -> ``(logits (N, T, V), weights (N, T, S) or None)``
    (teacher forcing); ``step(tokens (N,), state, memory)`` -> ``(logits (N, V), state, weights (N, S))``.
    """

    def __init__(self, vocab_size: int, embed_size: int, hidden_size: int, memory_size: int,
                 attention: str | None = "dot", input_feeding: bool = False, cell: type[nn.Module] = nn.GRU):
        super().__init__()
        self.attention_kind, self.input_feeding = attention, input_feeding and attention is not None
        self.hidden_size = hidden_size
        self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=PAD_ID)
        self.bridge = nn.Linear(memory_size, hidden_size)                   # encoder summary -> s_0
        self.rnn = make_rnn(cell, embed_size + (hidden_size if self.input_feeding else 0), hidden_size)
        self.is_lstm = _is_lstm(self.rnn)
        if attention is not None:
            self.keys = nn.Linear(memory_size, hidden_size, bias=False)       # encoder states -> the query's size
            self.attention = Attention(hidden_size, hidden_size, attention)
            self.combine = nn.Linear(2 * hidden_size, hidden_size)          # W_c [a_t; s_t]
        else:
            self.combine = nn.Linear(hidden_size, hidden_size)              # W_c s_t: same depth, no context
        self.out = nn.Linear(hidden_size, vocab_size)

    # -- state: batch-first tensors, so utils.decoding can reorder beams (index dimension 0)
    def initial_state(self, memory: Memory):
        s0 = torch.tanh(self.bridge(memory.summary))                        # (N, H)
        state = {"h": s0}
        if self.is_lstm:
            state["c"] = torch.zeros_like(s0)
        if self.input_feeding:
            state["feed"] = torch.zeros_like(s0)
        return state

    def _rnn_state(self, state):
        h = state["h"][None].contiguous()                                   # (1, N, H): torch's layout
        return (h, state["c"][None].contiguous()) if self.is_lstm else h

    def _readout(self, s: torch.Tensor, memory: Memory):
        """s (N, [T,] H) -> (h~ (N, [T,] H), weights or None)."""
        if self.attention_kind is None:
            return torch.tanh(self.combine(s)), None
        keys = self.keys(memory.states)                                     # (N, S, H)
        a, weights = self.attention(s, keys, memory.mask, values=keys)      # context (N, [T,] H)
        return torch.tanh(self.combine(torch.cat([a, s], dim=-1))), weights

    def forward(self, tgt_in: torch.Tensor, memory: Memory):
        state = self.initial_state(memory)
        x = self.embedding(tgt_in)                                          # (N, T, E)
        if not self.input_feeding:
            s, _ = self.rnn(x, self._rnn_state(state))                      # all T steps at once: (N, T, H)
            h_tilde, weights = self._readout(s, memory)
            return self.out(h_tilde), weights
        logits, weights = [], []
        for t in range(tgt_in.shape[1]):
            step_logits, state, w = self.step(tgt_in[:, t], state, memory)
            logits.append(step_logits)
            weights.append(w)
        return torch.stack(logits, 1), torch.stack(weights, 1)

    def step(self, tokens: torch.Tensor, state, memory: Memory):
        x = self.embedding(tokens)[:, None]                                 # (N, 1, E)
        if self.input_feeding:
            x = torch.cat([x, state["feed"][:, None]], dim=-1)
        s, rnn_state = self.rnn(x, self._rnn_state(state))                  # (N, 1, H)
        h_tilde, weights = self._readout(s[:, 0], memory)
        new = {"h": _first(rnn_state)[0]}
        if self.is_lstm:
            new["c"] = rnn_state[1][0]
        if self.input_feeding:
            new["feed"] = h_tilde
        return self.out(h_tilde), new, weights


@dataclass
class Seq2SeqConfig:
    """Sizes and switches of :class:`Seq2Seq` (defaults: the dates model of lectures 08-09)."""

    embed_size: int = 32
    hidden_size: int = 64           # per encoder direction; the decoder's is the same
    bidirectional: bool = True
    attention: str | None = "dot"   # None: the bottleneck model of lecture 08
    input_feeding: bool = False


class Seq2Seq(nn.Module):
    """Encoder-decoder: ``forward(batch) -> (logits (N, T, V_tgt), weights (N, T, S) or None)``."""

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, config: Seq2SeqConfig | None = None,
                 cell: type[nn.Module] = nn.GRU):
        super().__init__()
        self.config = c = config or Seq2SeqConfig()
        self.encoder = Encoder(src_vocab_size, c.embed_size, c.hidden_size, c.bidirectional, cell)
        self.decoder = Decoder(tgt_vocab_size, c.embed_size, c.hidden_size, self.encoder.output_size,
                               c.attention, c.input_feeding, cell)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def encode(self, src: torch.Tensor, lengths: torch.Tensor) -> Memory:
        states, summary = self.encoder(src, lengths)
        return Memory(states, length_mask(lengths.to(src.device), src.shape[1]), summary)

    def forward(self, batch: Batch):
        memory = self.encode(batch.src, batch.src_lengths)
        return self.decoder(batch.tgt_in, memory)

    def loss(self, batch: Batch) -> torch.Tensor:
        """Teacher-forced cross-entropy per target token (padding ignored)."""
        logits, _ = self(batch)
        return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch.tgt_out.reshape(-1),
                                           ignore_index=PAD_ID)

    def step_fn(self, memory: Memory, record: list | None = None):
        """``step_fn(tokens (B,), state) -> (log_probs (B, V), state)`` for :mod:`utils.decoding`.

        ``memory`` is for one input (beam search: rows are repeated to the beam) or for the
        whole batch (greedy). If ``record`` is a list, each step's attention weights are appended.
        """
        def step(tokens, state):
            rows = memory if len(tokens) == memory.states.shape[0] else memory.rows(torch.zeros(len(tokens), dtype=torch.long, device=memory.states.device))
            logits, state, weights = self.decoder.step(tokens.to(self.device), state, rows)
            if record is not None and weights is not None:
                record.append(weights.detach().cpu())
            return torch.log_softmax(logits.float(), -1), state
        return step


# --------------------------------------------------------------------------- training

def train_seq2seq(model: Seq2Seq, data: Seq2SeqData, steps: int, batch_size: int = 64, lr: float = 3e-3,
                  clip_norm: float | None = 1.0, seed: int = 0, live_plot: bool | None = None,
                  desc: str = "seq2seq", eval_fn=None, eval_every: int | None = None):
    """Adam with teacher forcing for ``steps`` steps on fresh random training batches; returns a History."""
    from .train import train

    device = model.device
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    batches = (b.to(device) for b in data.batches("train", batch_size, seed))
    model.train()
    history = train(model, optimizer, batches, model.loss, steps=steps, clip_norm=clip_norm,
                    live_plot=live_plot, desc=desc, eval_fn=eval_fn, eval_every=eval_every)
    model.eval()
    return history


# --------------------------------------------------------------------------- decoding and evaluation

@torch.no_grad()
def translate(model: Seq2Seq, data: Seq2SeqData, sources: Sequence[str], method: str = "greedy",
              beam_size: int = 3, alpha: float = 0.0, max_len: int | None = None,
              batch_size: int = 256) -> list[str]:
    """Translate source strings with greedy search or beam search (``method="beam"``)."""
    if method not in ("greedy", "beam"):
        raise ValueError(f"method must be 'greedy' or 'beam', got {method!r}")
    model.eval()
    max_len = max_len or max(len(t) for t in data.train.targets) + 1
    out: list[str] = []
    for lo in range(0, len(sources), batch_size):
        src, lengths = data.encode_sources(sources[lo:lo + batch_size])
        memory = model.encode(src.to(model.device), lengths.to(model.device))
        if method == "greedy":
            state = model.decoder.initial_state(memory)
            tokens, _ = greedy_decode(model.step_fn(memory), state, len(lengths), START_ID, END_ID, max_len)
            out.extend(data.tgt_vocab.decode(t) for t in tokens)
            continue
        for i in range(len(lengths)):
            one = memory.rows(torch.tensor([i], device=model.device))
            result = beam_search(model.step_fn(one), model.decoder.initial_state(one), START_ID, END_ID,
                                 max_len, beam_size, alpha=alpha)
            out.append(data.tgt_vocab.decode(result.best.tokens))
    return out


@torch.no_grad()
def attention_map(model: Seq2Seq, data: Seq2SeqData, source: str, max_len: int | None = None):
    """Greedy output for one source and its attention weights: ``(output str, weights (T_out, S))``.

    The rows are the output tokens (with ``</s>`` last when it was produced), the columns the source characters.
    """
    if model.decoder.attention_kind is None:
        raise ValueError("this model has no attention (attention=None): there are no weights to show")
    model.eval()
    max_len = max_len or max(len(t) for t in data.train.targets) + 1
    src, lengths = data.encode_sources([source])
    memory = model.encode(src.to(model.device), lengths.to(model.device))
    record: list[torch.Tensor] = []
    tokens, _ = greedy_decode(model.step_fn(memory, record), model.decoder.initial_state(memory), 1,
                              START_ID, END_ID, max_len)
    n = min(len(record), len(tokens[0]) + 1)
    weights = torch.cat(record[:n], 0).numpy()                             # (T_out, S)
    return data.tgt_vocab.decode(tokens[0]), weights


@torch.no_grad()
def sequence_log_probs(model: Seq2Seq, data: Seq2SeqData, sources: Sequence[str], outputs: Sequence[str]) -> np.ndarray:
    """``log p(output </s> | source)`` under the model for each pair, teacher-forced in one batch: (N,)."""
    from .seqdata import pad_batch

    model.eval()
    src, lengths = data.encode_sources(sources)
    tgt = [data.tgt_vocab.encode(o, unknown="raise") for o in outputs]
    tgt_in, _ = pad_batch([[START_ID] + t for t in tgt])
    tgt_out, _ = pad_batch([t + [END_ID] for t in tgt])
    logits, _ = model(Batch(src, lengths, tgt_in, tgt_out).to(model.device))
    lp = torch.log_softmax(logits.float(), -1).gather(2, tgt_out.to(model.device)[..., None])[..., 0]  # (N, T)
    return (lp * (tgt_out != PAD_ID).to(lp)).sum(1).cpu().double().numpy()


@dataclass
class Evaluation:
    """Exact match (fraction of outputs equal to the reference), character BLEU, and the outputs."""

    exact_match: float
    bleu: float
    predictions: list[str]
    correct: np.ndarray  # (N,) bool

    def __str__(self) -> str:
        return f"exact match {self.exact_match:.1%}, BLEU {self.bleu:.2f} ({len(self.predictions)} examples)"


def evaluate(model: Seq2Seq, data: Seq2SeqData, pairs: Pairs | str = "test", method: str = "greedy",
             beam_size: int = 3, alpha: float = 0.0, limit: int | None = None) -> Evaluation:
    """Exact match and corpus BLEU (characters as tokens, sacrebleu's "exp" smoothing) on a split."""
    if isinstance(pairs, str):
        pairs = data.split(pairs)
    sources, targets = pairs.sources[:limit], pairs.targets[:limit]
    predictions = translate(model, data, sources, method, beam_size, alpha)
    correct = np.array([p == t for p, t in zip(predictions, targets)])
    bleu = corpus_bleu([list(p) for p in predictions], [list(t) for t in targets]).score
    return Evaluation(float(correct.mean()), bleu, predictions, correct)


def accuracy_by_length(lengths: Sequence[int], correct: Sequence[bool], edges: Sequence[int]):
    """Exact match per source-length bin ``[edges[i], edges[i+1])``: ``(centres, accuracy, counts)``."""
    lengths, correct = np.asarray(lengths), np.asarray(correct, dtype=float)
    centres, acc, counts = [], [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (lengths >= lo) & (lengths < hi)
        if inside.any():
            centres.append((lo + hi - 1) / 2)
            acc.append(float(correct[inside].mean()))
            counts.append(int(inside.sum()))
    return np.array(centres), np.array(acc), np.array(counts)
