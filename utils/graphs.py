"""Pictures of an unrolled RNN (matplotlib): the computational graph, the five input/output shapes,
and where gradients flow in full and truncated backpropagation through time.

Colours follow Karpathy (2015): inputs red, hidden states green, outputs blue.
Every function draws on ``ax`` if given and returns it.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

COLORS = {"x": "#f6b3b3", "h": "#b5dfb5", "y": "#b3cdf6", "h0": "#eeeeee", "grad": "#d62728"}
_DX, _ROW = 1.7, {"x": 0.0, "h": 1.4, "y": 2.8}
_W, _Hbox = 0.9, 0.6


def _box(ax, cx, cy, text, color, dashed=False):
    ax.add_patch(FancyBboxPatch((cx - _W / 2, cy - _Hbox / 2), _W, _Hbox, boxstyle="round,pad=0.04",
                                fc=color, ec="black", lw=1.2, ls="--" if dashed else "-"))
    ax.text(cx, cy, text, ha="center", va="center", fontsize=12)


def _arrow(ax, start, end, color="black", label=None, label_offset=(0.0, 0.0), ls="-", lw=1.4,
           fontsize=9, rad=0.0):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color=color,
                                 lw=lw, ls=ls, connectionstyle=f"arc3,rad={rad}", shrinkA=0, shrinkB=0))
    if label:
        mx = (start[0] + end[0]) / 2 + label_offset[0]
        my = (start[1] + end[1]) / 2 + label_offset[1]
        ax.text(mx, my, label, ha="center", va="center", fontsize=fontsize, color=color,
                bbox=dict(fc="white", ec="none", pad=0.5, alpha=0.85))


def _mask(spec, T, default):
    if spec is None:
        spec = default
    if spec == "all":
        return [True] * T
    if spec == "first":
        return [t == 0 for t in range(T)]
    if spec == "last":
        return [t == T - 1 for t in range(T)]
    spec = list(spec)
    if len(spec) != T:
        raise ValueError(f"mask has {len(spec)} entries for T={T} steps")
    return [bool(s) for s in spec]


def draw_unrolled(T: int = 4, ax=None, inputs: str | Sequence[bool] = "all",
                  outputs: str | Sequence[bool] = "all", h0: bool = True, weights: bool = True,
                  backward: bool = False, truncate: int | None = None, split: int | None = None,
                  title: str | None = None, fontsize: int = 9, x0: float = 0.0):
    """Draw the RNN unrolled over ``T`` steps: ``x_t -> h_t -> y_t`` and ``h_{t-1} -> h_t``.

    Args:
        T: number of time steps drawn.
        inputs, outputs: which steps have an input / an output: "all", "first", "last" or T booleans.
        h0: draw the initial state ``h_0`` on the left.
        weights: label every arrow with its weight matrix (the *same* matrix at every step).
        backward: overlay the gradient flow of BPTT (red dashed): each loss sends a gradient into
            its ``h_t``, and ``h_t`` sends one back to ``h_{t-1}`` through ``W_hh``.
        truncate: with ``backward``, cut the backward arrows every ``truncate`` steps (truncated
            BPTT: the state still flows forward across the cut, the gradient does not).
        split: steps ``>= split`` belong to a decoder with its own weights (primed labels).
        x0: horizontal offset of step 1 (to draw several graphs on one axes; limits are then left as they are).
    """
    if T < 1:
        raise ValueError(f"T must be >= 1, got {T}")
    ins, outs = _mask(inputs, T, "all"), _mask(outputs, T, "all")
    if ax is None:
        _, ax = plt.subplots(figsize=(1.45 * (T + h0) + 0.6, 3.2 if not backward else 3.6))
    y_top = _ROW["y"] + 0.6
    x_left = -_DX if h0 else -0.7
    for t in range(T):
        cx = x0 + t * _DX
        prime = "'" if split is not None and t >= split else ""
        _box(ax, cx, _ROW["h"], f"$h_{{{t + 1}}}$", COLORS["h"])
        if ins[t]:
            _box(ax, cx, _ROW["x"], f"$x_{{{t + 1}}}$", COLORS["x"])
            _arrow(ax, (cx, _ROW["x"] + _Hbox / 2 + 0.04), (cx, _ROW["h"] - _Hbox / 2 - 0.04),
                   label=f"$W_{{ih}}{prime}$" if weights else None, label_offset=(0.0, 0.0), fontsize=fontsize)
        if outs[t]:
            _box(ax, cx, _ROW["y"], f"$y_{{{t + 1}}}$", COLORS["y"])
            _arrow(ax, (cx, _ROW["h"] + _Hbox / 2 + 0.04), (cx, _ROW["y"] - _Hbox / 2 - 0.04),
                   label=f"$W_{{hy}}{prime}$" if weights else None, fontsize=fontsize)
        if t > 0 or h0:
            start = (cx - _DX + _W / 2 + 0.06, _ROW["h"])
            _arrow(ax, start, (cx - _W / 2 - 0.06, _ROW["h"]),
                   label=f"$W_{{hh}}{prime}$" if weights else None, label_offset=(0.0, 0.22), fontsize=fontsize)
    if h0:
        _box(ax, x0 - _DX, _ROW["h"], "$h_0$", COLORS["h0"], dashed=True)

    if backward:
        cuts = set(range(truncate, T, truncate)) if truncate else set()
        g = COLORS["grad"]
        for t in range(T):
            cx = x0 + t * _DX
            if outs[t]:
                _arrow(ax, (cx + 0.3, _ROW["y"] - _Hbox / 2 - 0.04), (cx + 0.3, _ROW["h"] + _Hbox / 2 + 0.04),
                       color=g, ls="--", lw=1.2)
            if (t > 0 or (h0 and not truncate)) and t not in cuts:
                _arrow(ax, (cx - _W / 2 - 0.06, _ROW["h"] - 0.22), (cx - _DX + _W / 2 + 0.06, _ROW["h"] - 0.22),
                       color=g, ls="--", lw=1.2)
        for c in sorted(cuts):
            xc = x0 + (c - 0.5) * _DX
            ax.plot([xc, xc], [-0.5, y_top - 0.1], color="0.4", ls=":", lw=1.5)
            ax.text(xc, -0.62, "gradient\nstops here", ha="center", va="top", fontsize=8, color="0.3")
        ax.plot([], [], color=g, ls="--", label="gradient (backward)")
        ax.plot([], [], color="black", label="activation (forward)")
        ax.legend(loc="upper center", fontsize=8, frameon=False, bbox_to_anchor=(0.5, 0.02), ncol=2)
    if split is not None:
        xs = x0 + (split - 0.5) * _DX
        ax.plot([xs, xs], [-0.45, y_top - 0.1], color="0.5", ls=":", lw=1.2)
        ax.text(x0 + (split - 1) * _DX / 2, y_top - 0.1, "encoder", ha="center", va="bottom", fontsize=9)
        ax.text(x0 + (split + T - 1) * _DX / 2, y_top - 0.1, "decoder", ha="center", va="bottom", fontsize=9)
    if x0:
        return ax
    ax.set_xlim(x_left - 0.6, (T - 1) * _DX + 0.7)
    ax.set_ylim(-1.3 if backward and truncate else -0.95 if backward else -0.6,
                y_top + (0.6 if split is not None else 0.2))
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=11, pad=14 if backward else 4)
    return ax


SHAPES = {
    "one-to-one": dict(T=1, inputs="all", outputs="all"),
    "one-to-many": dict(T=4, inputs="first", outputs="all"),
    "many-to-one": dict(T=4, inputs="all", outputs="last"),
    "many-to-many": dict(T=4, inputs="all", outputs="all"),
    "encoder-decoder": dict(T=6, inputs=[1, 1, 1, 0, 0, 0], outputs=[0, 0, 0, 1, 1, 1], split=3),
}
"""The five input/output shapes of Karpathy (2015), as arguments to :func:`draw_unrolled`."""

_EXAMPLES = {
    "one-to-one": "image → class\n(no recurrence: an MLP)",
    "one-to-many": "image → caption;\none seed → a melody",
    "many-to-one": "review → sentiment",
    "many-to-many": "text → next character\n(each step labelled)",
    "encoder-decoder": "English → French\n(lengths differ)",
}


def draw_shapes(ax=None):
    """Draw the five shapes side by side on one axes, each with an example task. Returns the axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(17, 3.6))
    x0 = 0.0
    for name, kw in SHAPES.items():
        draw_unrolled(ax=ax, h0=False, weights=False, x0=x0 + 1e-9, **kw)
        mid = x0 + (kw["T"] - 1) * _DX / 2
        ax.text(mid, _ROW["y"] + 1.0, name, ha="center", va="bottom", fontsize=12, fontweight="bold")
        ax.text(mid, -0.5, _EXAMPLES[name], ha="center", va="top", fontsize=9)
        x0 += kw["T"] * _DX + 1.8
    ax.set_xlim(-1.2, x0 - 1.8 - _DX + 0.9)
    ax.set_ylim(-1.4, _ROW["y"] + 1.5)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax
