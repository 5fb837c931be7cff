"""The from-scratch LSTM layer made fast (lecture 06, ``bench/rnn_speed.py``): where the time goes.

:func:`utils.lstm.lstm_layer` is the LSTM as taught: at each step two matmuls, two bias adds and
about ten small element-wise operations, each one a separate kernel launch and, when training,
a separate node in autograd's graph (about 15 per step, so 1,500 for T = 100). With small
matrices that bookkeeping, not the arithmetic, is most of the time. Three changes remove it:

1. **Hoist the input projection out of the loop** (:func:`lstm_layer_fused`): ``x_t W_ih^T + b``
   does not depend on ``h_{t-1}``, so compute it for all T steps in one large matmul
   (N*T, D) @ (D, 4H), which runs near the machine's peak; only ``h_{t-1} W_hh^T`` stays in the loop.
2. **Write the backward by hand** (:class:`LSTMFunction`, :func:`lstm_layer_handwritten`): the
   forward keeps the gate activations; the backward walks back through time doing one
   (N, 4H) @ (4H, H) matmul per step and fuses the rest into three large matmuls at the end:
   ``dW_ih = da^T x``, ``dW_hh = da^T h_prev`` and ``dx = da W_ih`` over all N*T rows at once
   (the lecture 03 / 05 equations, summed over time in one product instead of T small ones).
3. Pre-allocate the outputs and work in place where autograd is not watching.

``nn.LSTM`` on the CPU does the same inside one C++ call (oneDNN where available), with no Python
per step at all; that is the bar. Shapes: N batch, T time, D input, H hidden; batch-first.
"""

from __future__ import annotations

import torch


def lstm_layer_fused(x, state, weight_ih, weight_hh, bias_ih, bias_hh):
    """:func:`utils.lstm.lstm_layer` with the input projection hoisted out of the time loop (autograd).

    Args / returns as :func:`utils.lstm.lstm_layer`: x (N, T, D), state ``(h0, c0)`` or None ->
    ``output`` (N, T, H), ``(h_n, c_n)``.
    """
    N, T, _ = x.shape
    H = weight_hh.shape[1]
    xw = torch.addmm(bias_ih + bias_hh, x.reshape(N * T, -1), weight_ih.T).view(N, T, 4 * H)  # one big matmul
    h, c = (x.new_zeros(N, H), x.new_zeros(N, H)) if state is None else state
    w_hh_t = weight_hh.T
    outputs = []
    for t in range(T):
        gates = torch.addmm(xw[:, t], h, w_hh_t)                              # (N, 4H)
        i, f, g, o = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outputs.append(h)
    return torch.stack(outputs, dim=1), (h, c)


def _forward(x, h0, c0, weight_ih, weight_hh, bias, keep: bool):
    """The shared forward, time-major inside (step t's rows are contiguous).

    Returns output (N, T, H), h_n, c_n and, when ``keep``, the gate activations (T, N, 4H), the cell
    states and their tanh (T, N, H) that the backward needs.
    """
    N, T, D = x.shape
    H = weight_hh.shape[1]
    x_tm = x.transpose(0, 1).reshape(T * N, D)                                    # (T*N, D) time-major rows
    acts = torch.addmm(bias, x_tm, weight_ih.T).view(T, N, 4 * H)                  # x W_ih^T + b, all steps
    out = x.new_empty(T, N, H)
    cs = x.new_empty(T, N, H) if keep else None
    tcs = x.new_empty(T, N, H) if keep else None
    h, c = h0, c0
    w_hh_t = weight_hh.T
    for t in range(T):
        a = acts[t].addmm_(h, w_hh_t)                   # the pre-activations, in place: (N, 4H)
        a[:, :2 * H].sigmoid_()                         # i, f
        a[:, 2 * H:3 * H].tanh_()                       # g
        a[:, 3 * H:].sigmoid_()                         # o
        i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        c = torch.mul(f, c, out=cs[t]) if keep else f * c
        c.addcmul_(i, g)
        tc = torch.tanh(c, out=tcs[t]) if keep else torch.tanh(c)
        h = torch.mul(o, tc, out=out[t])
    return out.transpose(0, 1).contiguous(), h, c, acts, (cs, tcs, out)


class LSTMFunction(torch.autograd.Function):
    """One LSTM layer as a single autograd node with a hand-written backward (see the module docstring).

    ``LSTMFunction.apply(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh) -> (output, h_n, c_n)``;
    x (N, T, D), h0 and c0 (N, H). Gradients flow into every input and into ``h_n`` and ``c_n``.
    """

    @staticmethod
    def forward(ctx, x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh):
        out, h, c, acts, (cs, tcs, out_tm) = _forward(x, h0, c0, weight_ih, weight_hh, bias_ih + bias_hh, keep=True)
        ctx.save_for_backward(x, h0, c0, weight_ih, weight_hh, out_tm, acts, cs, tcs)
        return out, h.clone(), c.clone()

    @staticmethod
    def backward(ctx, dout, dh_n, dc_n):
        x, h0, c0, weight_ih, weight_hh, out_tm, acts, cs, tcs = ctx.saved_tensors
        N, T, D = x.shape
        H = h0.shape[1]
        dout_tm = (torch.zeros_like(x[..., :H]) if dout is None else dout).transpose(0, 1)   # (T, N, H) view
        dh = torch.zeros_like(h0) if dh_n is None else dh_n.clone()
        dc = torch.zeros_like(c0) if dc_n is None else dc_n.clone()
        da = torch.empty_like(acts)                                            # (T, N, 4H) at the gates' inputs
        for t in reversed(range(T)):
            a = acts[t]
            i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            tc = tcs[t]
            prev_c = cs[t - 1] if t > 0 else c0
            dh += dout_tm[t]
            dho = dh * o
            dc.addcmul_(dho, 1 - tc * tc)                                      # through h = o tanh(c)
            d = da[t]
            torch.mul(dc * g, i * (1 - i), out=d[:, :H])                      # input gate
            torch.mul(dc * prev_c, f * (1 - f), out=d[:, H:2 * H])            # forget gate
            torch.mul(dc * i, 1 - g * g, out=d[:, 2 * H:3 * H])               # candidate
            torch.mul(dh * tc, o * (1 - o), out=d[:, 3 * H:])                 # output gate
            dc.mul_(f)                                                         # along the cell path: diag(f)
            dh = d @ weight_hh                                                 # (N, 4H) @ (4H, H)
        rows = da.view(T * N, 4 * H)                                           # time-major rows
        x_tm = x.transpose(0, 1).reshape(T * N, D)
        h_prev = torch.cat([h0.unsqueeze(0), out_tm[:-1]]).view(T * N, H)
        dx = (rows @ weight_ih).view(T, N, D).transpose(0, 1)                  # every step in one matmul
        dW_ih = rows.T @ x_tm
        dW_hh = rows.T @ h_prev
        db = rows.sum(0)
        return dx, dh, dc, dW_ih, dW_hh, db, db.clone()


def lstm_layer_handwritten(x, state, weight_ih, weight_hh, bias_ih, bias_hh):
    """The fastest from-scratch layer here: :class:`LSTMFunction` when a gradient is needed, else
    the same in-place forward with no graph. Same arguments and outputs as :func:`utils.lstm.lstm_layer`."""
    N = x.shape[0]
    H = weight_hh.shape[1]
    h0, c0 = (x.new_zeros(N, H), x.new_zeros(N, H)) if state is None else state
    if torch.is_grad_enabled() and any(t.requires_grad for t in (x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh)):
        out, h, c = LSTMFunction.apply(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh)
    else:
        out, h, c, _, _ = _forward(x, h0, c0, weight_ih, weight_hh, bias_ih + bias_hh, keep=False)
    return out, (h, c)
