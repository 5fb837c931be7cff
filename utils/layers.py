"""Deep and bidirectional recurrent layers from scratch (lecture 07), with ``nn.LSTM``'s names and outputs.

:class:`StackedRNN` is ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` written out: a loop over layers, and
within a layer a loop over time (:func:`utils.lstm.lstm_cell`, :func:`utils.gru.gru_cell`). Its
parameters have torch's names and shapes (``weight_ih_l0``, ``weight_hh_l1_reverse``, ...), so
``ours.load_state_dict(torch_module.state_dict())`` copies a torch model in, and the outputs and
every gradient can be compared (``tests/test_layers.py`` does, in float64).

What a stack does, in the order torch does it:

* layer 0 reads the input ``x`` (N, T, D); layer k > 0 reads layer k-1's outputs (N, T, dirs*H);
* **bidirectional**: each layer runs a second cell from the end of the sequence to its start,
  and the two directions' states are concatenated at each step: ``[forward_t ; backward_t]``;
* **dropout** (training only) is applied to the outputs of every layer but the last;
* **residual** (not in torch): from layer 1 on, a layer's input is added to its output
  (same shapes), giving the gradient an identity path through depth (``residual=False`` for parity).

Variable lengths: pass ``lengths`` (N,) and the padded steps are skipped exactly as
``pack_padded_sequence`` makes torch skip them: the state stops at each sequence's last real
step (that is ``h_n``), the backward direction starts at each sequence's own last step, and
outputs at padded steps are 0 (as ``pad_packed_sequence`` returns them).

Shape legend: N batch, T time, D input features, H hidden units, L layers, G gates.
Batch-first only.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .gru import gru_cell
from .lstm import lstm_cell

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def _rnn_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    return torch.tanh(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh)


class StackedRNN(nn.Module):
    """A multi-layer, optionally bidirectional RNN, LSTM or GRU, from the cell equations.

    Args:
        mode: "rnn" (tanh), "lstm" or "gru".
        input_size: D.  hidden_size: H.  num_layers: L.
        bidirectional: add a right-to-left cell in every layer (outputs of size 2H).
        dropout: probability of zeroing an output of layers 0..L-2 during training (torch's rule).
        residual: add each layer's input to its output, from layer 1 on (not in torch).

    ``forward(x, hx=None, lengths=None)``: x (N, T, D); hx as torch's (``h0`` (L*dirs, N, H), or
    ``(h0, c0)`` for an LSTM); lengths (N,) true lengths for padded batches. Returns
    ``output`` (N, T, dirs*H) and ``h_n`` (L*dirs, N, H) (``(h_n, c_n)`` for an LSTM), like
    ``nn.LSTM(..., batch_first=True)``.
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bidirectional: bool = False, dropout: float = 0.0, residual: bool = False):
        super().__init__()
        if mode not in GATES:
            raise ValueError(f"mode must be one of {sorted(GATES)}, got {mode!r}")
        if num_layers < 1 or hidden_size < 1 or input_size < 1:
            raise ValueError(f"need input_size, hidden_size and num_layers >= 1; got {input_size}, "
                             f"{hidden_size}, {num_layers}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout is a probability in [0, 1), got {dropout}")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bidirectional = num_layers, bidirectional
        self.dropout, self.residual = dropout, residual
        self.num_directions = 2 if bidirectional else 1
        G, H = GATES[mode], hidden_size
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else H * self.num_directions
            for suffix in self._suffixes(layer):
                self.register_parameter(f"weight_ih{suffix}", nn.Parameter(torch.empty(G * H, layer_input)))
                self.register_parameter(f"weight_hh{suffix}", nn.Parameter(torch.empty(G * H, H)))
                self.register_parameter(f"bias_ih{suffix}", nn.Parameter(torch.empty(G * H)))
                self.register_parameter(f"bias_hh{suffix}", nn.Parameter(torch.empty(G * H)))
        self.reset_parameters()

    def _suffixes(self, layer: int) -> list[str]:
        return [f"_l{layer}"] + ([f"_l{layer}_reverse"] if self.bidirectional else [])

    def reset_parameters(self) -> None:
        """torch's initialisation: every parameter ~ U(-1/sqrt(H), 1/sqrt(H))."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def weights(self, layer: int, reverse: bool = False) -> tuple[torch.Tensor, ...]:
        """``(weight_ih, weight_hh, bias_ih, bias_hh)`` of one layer and direction."""
        suffix = f"_l{layer}" + ("_reverse" if reverse else "")
        return tuple(getattr(self, f"{name}{suffix}") for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    def _run(self, x, state, weights, lengths, reverse):
        """One direction of one layer over time. ``state``: h (N, H) or (h, c)."""
        N, T, _ = x.shape
        is_lstm = self.mode == "lstm"
        cell = {"rnn": _rnn_cell, "lstm": lstm_cell, "gru": gru_cell}[self.mode]
        outputs = [None] * T
        for t in (reversed(range(T)) if reverse else range(T)):
            new = cell(x[:, t], state, *weights)
            if lengths is not None:
                # Steps at or past a sequence's length are padding: keep its state, output 0.
                # Right to left, that state stays h0 until the sequence's own last step.
                real = (t < lengths).to(x.dtype).unsqueeze(1)                 # (N, 1)
                if is_lstm:
                    new = tuple(real * n + (1 - real) * s for n, s in zip(new, state))
                else:
                    new = real * new + (1 - real) * state
                outputs[t] = (new[0] if is_lstm else new) * real
            else:
                outputs[t] = new[0] if is_lstm else new
            state = new
        return torch.stack(outputs, dim=1), state

    def forward(self, x: torch.Tensor, hx=None, lengths=None):
        if x.dim() != 3 or x.shape[-1] != self.input_size:
            raise ValueError(f"x must be batch-first (N, T, D={self.input_size}), got shape {tuple(x.shape)}")
        N, T, _ = x.shape
        LD, H = self.num_layers * self.num_directions, self.hidden_size
        is_lstm = self.mode == "lstm"
        if hx is None:
            zeros = x.new_zeros(LD, N, H)
            hx = (zeros, zeros) if is_lstm else zeros
        if is_lstm and not (isinstance(hx, tuple) and len(hx) == 2):
            raise ValueError("an LSTM's initial state is a pair (h0, c0), each (L*dirs, N, H)")
        for s in (hx if is_lstm else (hx,)):
            if tuple(s.shape) != (LD, N, H):
                raise ValueError(f"initial state must be (L*dirs, N, H) = {(LD, N, H)}, got {tuple(s.shape)}")
        if lengths is not None:
            lengths = torch.as_tensor(lengths, device=x.device)
            if lengths.shape != (N,) or int(lengths.min()) < 1 or int(lengths.max()) > T:
                raise ValueError(f"lengths must be (N,) = ({N},) with 1 <= length <= T={T}, got {lengths.tolist()}")
        h_n, c_n = [], []
        layer_input = x
        for layer in range(self.num_layers):
            outs = []
            for d, reverse in enumerate([False, True][:self.num_directions]):
                k = layer * self.num_directions + d
                state = (hx[0][k], hx[1][k]) if is_lstm else hx[k]
                out, state = self._run(layer_input, state, self.weights(layer, reverse), lengths, reverse)
                outs.append(out)
                h_n.append(state[0] if is_lstm else state)
                if is_lstm:
                    c_n.append(state[1])
            output = torch.cat(outs, dim=-1) if len(outs) > 1 else outs[0]     # (N, T, dirs*H)
            if self.residual and layer > 0:
                output = output + layer_input
            if self.dropout and self.training and layer < self.num_layers - 1:
                output = nn.functional.dropout(output, self.dropout, training=True)
            layer_input = output
        h_n = torch.stack(h_n)                                                # (L*dirs, N, H)
        return layer_input, ((h_n, torch.stack(c_n)) if is_lstm else h_n)

    def extra_repr(self) -> str:
        return (f"{self.mode}, {self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
                f"bidirectional={self.bidirectional}, dropout={self.dropout}, residual={self.residual}")


def torch_equivalent(module: StackedRNN) -> nn.Module:
    """The ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` with the same settings and a copy of the weights."""
    if module.residual:
        raise ValueError("torch's recurrent modules have no residual connections; there is no equivalent")
    cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[module.mode]
    p = next(module.parameters())
    twin = cls(module.input_size, module.hidden_size, module.num_layers, batch_first=True,
               dropout=module.dropout, bidirectional=module.bidirectional).to(dtype=p.dtype, device=p.device)
    twin.load_state_dict(module.state_dict())
    return twin
