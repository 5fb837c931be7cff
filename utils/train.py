"""A small training loop: progress bar, optional clipping by global norm, live loss plot, history.

The loop knows nothing about the model's inputs: you pass ``loss_fn(batch) -> scalar loss``,
so a stateful (truncated-BPTT) model keeps its hidden state in a closure.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Callable, Iterable

import torch


@dataclass
class History:
    """What happened during training, one entry per step (val_* per evaluation)."""

    step: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)  # global norm before clipping
    clipped: list[bool] = field(default_factory=list)
    val_step: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, list]:
        return dict(self.__dict__)


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where a live plot can be redrawn in place)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def train(params: Iterable[torch.nn.Parameter] | torch.nn.Module, optimizer: torch.optim.Optimizer,
          batches: Iterable, loss_fn: Callable[[object], torch.Tensor], *, steps: int,
          clip_norm: float | None = None, eval_fn: Callable[[], float] | None = None,
          eval_every: int | None = None, live_plot: bool | None = None, plot_every: int = 25,
          desc: str = "train", stop_on_nonfinite: bool = True) -> History:
    """Run ``steps`` optimisation steps and return the :class:`History`.

    Args:
        params: the model (or its parameters): what is clipped and whose gradient norm is logged.
        optimizer: a torch optimizer over those parameters.
        batches: any iterable of batches; it is cycled if shorter than ``steps``.
        loss_fn: ``loss_fn(batch) -> scalar tensor`` (forward pass and loss).
        steps: number of optimisation steps (budgets are in steps, not seconds).
        clip_norm: if set, rescale gradients whose global L2 norm exceeds it
            (``torch.nn.utils.clip_grad_norm_``, Pascanu et al. 2013).
        eval_fn: ``eval_fn() -> float`` (e.g. validation loss), called every ``eval_every`` steps
            and at the end.
        live_plot: redraw a loss plot in place; default: on in notebooks, off elsewhere
            (outside notebooks the progress bar prints plain text).
        stop_on_nonfinite: stop (with a message) at the first NaN/inf loss instead of training on garbage.
    """
    from tqdm.auto import tqdm

    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if isinstance(params, torch.nn.Module):
        params = params.parameters()
    params = [p for p in params if p.requires_grad]
    if not params:
        raise ValueError("no trainable parameters: pass the model or its parameters")
    live_plot = in_notebook() if live_plot is None else live_plot
    eval_every = eval_every or max(1, steps // 10)
    plotter = _LivePlot(desc) if live_plot else None

    history = History()
    source = itertools.cycle(batches) if not hasattr(batches, "__next__") else batches
    bar = tqdm(range(1, steps + 1), desc=desc, leave=True, mininterval=0.5)
    for step in bar:
        try:
            batch = next(source)
        except StopIteration:
            raise ValueError(f"batches ran out after {step - 1} of {steps} steps; pass a re-iterable") from None
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(batch)
        loss_value = float(loss.detach())
        if not math.isfinite(loss_value) and stop_on_nonfinite:
            bar.write(f"step {step}: loss is {loss_value}; stopping (lower the learning rate or clip gradients)")
            history.step.append(step)
            history.loss.append(loss_value)
            history.grad_norm.append(float("nan"))
            history.clipped.append(False)
            break
        loss.backward()
        norm = float(torch.nn.utils.clip_grad_norm_(params, clip_norm if clip_norm else float("inf")))
        optimizer.step()
        history.step.append(step)
        history.loss.append(loss_value)
        history.grad_norm.append(norm)
        history.clipped.append(bool(clip_norm) and norm > clip_norm)
        if eval_fn is not None and (step % eval_every == 0 or step == steps):
            history.val_step.append(step)
            history.val_loss.append(float(eval_fn()))
        bar.set_postfix(loss=f"{loss_value:.3f}", refresh=False)
        if plotter and (step % plot_every == 0 or step == steps):
            plotter.update(history)
    bar.close()
    if plotter:
        plotter.update(history)
    elif history.loss:
        last = f"final loss {history.loss[-1]:.4f}"
        if history.val_loss:
            last += f", validation loss {history.val_loss[-1]:.4f}"
        print(f"{desc}: {len(history.step)} steps, {last}")
    return history


class _LivePlot:
    """A loss figure redrawn in place in a notebook (one display handle, no flicker of new cells)."""

    def __init__(self, title: str):
        import matplotlib.pyplot as plt
        from IPython.display import display

        self.fig, self.ax = plt.subplots(figsize=(6, 3))
        self.title = title
        self.handle = display(self.fig, display_id=True)
        plt.close(self.fig)  # keep the inline backend from showing it a second time

    def update(self, history: History) -> None:
        from .plot import plot_losses

        self.ax.clear()
        plot_losses(history, ax=self.ax, title=self.title)
        self.handle.update(self.fig)
