"""Plotting helpers shared by the notebooks: loss curves, gradient norms, heat maps.

Every figure gets a title and labelled axes; each helper draws on ``ax`` if given
(so notebooks can lay out subplots) and returns it.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np


def _axes(ax, figsize=(6, 3.5)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def smooth(values: Sequence[float], weight: float = 0.9) -> np.ndarray:
    """Exponential moving average (bias-corrected), for noisy per-step losses."""
    values = np.asarray(values, dtype=np.float64)
    out = np.empty_like(values)
    avg = 0.0
    for i, v in enumerate(values):
        avg = weight * avg + (1 - weight) * v
        out[i] = avg / (1 - weight ** (i + 1))
    return out


def plot_losses(curves, ax=None, title: str = "Training loss", ylabel: str = "loss",
                smoothing: float = 0.9, log: bool = False):
    """Plot one or several loss curves.

    Args:
        curves: a ``utils.train.History`` (train and validation loss), or a mapping
            label -> History or sequence of per-step losses.
        smoothing: EMA weight for per-step curves (0 = raw); the raw curve is drawn faintly behind.
    """
    ax = _axes(ax)
    if not isinstance(curves, Mapping):
        curves = {"": curves}
    for label, curve in curves.items():
        if hasattr(curve, "loss"):
            steps, loss = np.asarray(curve.step), np.asarray(curve.loss, dtype=float)
            name = f"{label} train".strip()
        else:
            loss = np.asarray(curve, dtype=float)
            steps, name = np.arange(1, len(loss) + 1), label or "loss"
        if len(loss) == 0:
            continue
        finite = np.isfinite(loss)
        if smoothing and len(loss) > 10 and finite.all():
            line, = ax.plot(steps, loss, alpha=0.25)
            ax.plot(steps, smooth(loss, smoothing), color=line.get_color(), label=name)
        else:
            ax.plot(steps, loss, label=name)
        if hasattr(curve, "val_loss") and curve.val_loss:
            ax.plot(curve.val_step, curve.val_loss, "o-", label=f"{label} validation".strip())
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if log:
        ax.set_yscale("log")
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    ax.grid(alpha=0.3)
    return ax


def plot_grad_norms(norms: Mapping[str, Sequence[float]] | Sequence[float], ax=None,
                    title: str = "Gradient norm", xlabel: str = "step", clip: float | None = None):
    """Gradient norms on a log scale; ``clip`` draws the clipping threshold."""
    ax = _axes(ax)
    if not isinstance(norms, Mapping):
        norms = {"": norms}
    for label, values in norms.items():
        ax.semilogy(np.arange(1, len(values) + 1), values, label=label or None)
    if clip is not None:
        ax.axhline(clip, color="k", ls="--", lw=1, label=f"threshold {clip:g}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("‖g‖ (log scale)")
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    ax.grid(alpha=0.3, which="both")
    return ax


def heatmap(matrix, ax=None, row_labels: Sequence[str] | None = None,
            col_labels: Sequence[str] | None = None, title: str = "", xlabel: str = "",
            ylabel: str = "", cmap: str = "viridis", annotate: bool | None = None,
            colorbar: bool = True, fmt: str = "{:.2f}"):
    """Draw a 2-D array as a heat map (attention weights, activations, weight matrices).

    ``annotate`` writes each value in its cell (default: when the matrix has <= 100 cells).
    """
    matrix = np.asarray(matrix, dtype=float)
    if matrix.ndim != 2:
        raise ValueError(f"heatmap needs a 2-D array, got shape {matrix.shape}")
    rows, cols = matrix.shape
    ax = _axes(ax, figsize=(max(3, 0.5 * cols + 2), max(2.5, 0.4 * rows + 1.5)))
    image = ax.imshow(matrix, cmap=cmap, aspect="auto")
    if row_labels is not None:
        ax.set_yticks(range(rows), labels=list(row_labels))
    if col_labels is not None:
        ax.set_xticks(range(cols), labels=list(col_labels))
    if annotate is None:
        annotate = matrix.size <= 100
    if annotate:
        mid = np.nanmean(matrix)
        for i in range(rows):
            for j in range(cols):
                ax.text(j, i, fmt.format(matrix[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if matrix[i, j] < mid else "black")
    if colorbar:
        ax.figure.colorbar(image, ax=ax)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax
