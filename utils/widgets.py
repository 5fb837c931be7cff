"""Small wrappers over ipywidgets: controls whose output is redrawn in place when they change.

``Live(fn, controls)`` calls ``fn(**values)`` once with the default values and again on every
change. The result (a string, a matplotlib figure, or anything IPython can display) is shown
as an ordinary cell output with a display id and *updated in place*; so a notebook executed
headless (``nbconvert --execute``, CI) still shows the default values' output, and in
JupyterLab moving a slider replaces it. The latest result is kept in ``.result``, which is what
the tests check after setting ``control.value`` programmatically.

This is the only module that imports ipywidgets.
"""

from __future__ import annotations

import io
from typing import Any, Callable, Mapping

import ipywidgets as w

_LAYOUT = {"width": "420px"}
_STYLE = {"description_width": "120px"}


class Live:
    """Controls plus an output that ``fn(**{name: control.value})`` redraws when a value changes.

    Args:
        fn: called with one keyword argument per control; returns a str (shown as plain text),
            a matplotlib Figure (shown as an image, then closed), or any displayable object.
        controls: name -> ipywidgets control (anything with a ``value`` trait).

    Attributes:
        result: what ``fn`` returned last.  calls: how many times it ran.  error: the last
            exception's message, or "" (a failing callback shows its error instead of dying silently).
    """

    def __init__(self, fn: Callable[..., Any], controls: Mapping[str, w.ValueWidget]):
        self.fn, self.controls = fn, dict(controls)
        self.result: Any = None
        self.error, self.calls = "", 0
        self._handle = None
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.refresh()

    def values(self) -> dict[str, Any]:
        return {name: c.value for name, c in self.controls.items()}

    def refresh(self) -> Any:
        """Recompute with the current values and update the shown output."""
        try:
            self.result, self.error = self.fn(**self.values()), ""
        except Exception as exc:  # show the learner what went wrong next to the control
            self.result, self.error = None, f"{type(exc).__name__}: {exc}"
        self.calls += 1
        if self._handle is not None:
            self._handle.update(self._renderable())
        return self.result

    def _on_change(self, change) -> None:
        self.refresh()

    def _renderable(self):
        from IPython.display import Pretty

        if self.error:
            return Pretty(f"error: {self.error}")
        result = self.result
        if isinstance(result, str):
            return Pretty(result)
        if type(result).__name__ == "Figure" and hasattr(result, "savefig"):
            import matplotlib.pyplot as plt
            from IPython.display import Image


            buf = io.BytesIO()
            result.savefig(buf, format="png", dpi=90, bbox_inches="tight")
            plt.close(result)  # rendered: keep the inline backend from showing it again
            return Image(buf.getvalue(), format="png")
        return result

    def _ipython_display_(self):
        from IPython.display import display

        display(w.VBox(list(self.controls.values())))
        self._handle = display(self._renderable(), display_id=True)


# --------------------------------------------------------------------------- controls

def float_slider(description: str, value: float, min: float, max: float, step: float,
                 readout_format: str = ".2f") -> w.FloatSlider:
    """A FloatSlider that updates on release (each update may retrain or resample)."""
    return w.FloatSlider(value=value, min=min, max=max, step=step, description=description,
                         continuous_update=False, readout_format=readout_format,
                         layout=_LAYOUT, style=_STYLE)


def log_slider(description: str, value: float, min_exp: float, max_exp: float,
               step: float = 0.25) -> w.FloatLogSlider:
    """A FloatLogSlider over ``10**min_exp .. 10**max_exp``, updating on release."""
    return w.FloatLogSlider(value=value, base=10, min=min_exp, max=max_exp, step=step,
                            description=description, continuous_update=False, layout=_LAYOUT, style=_STYLE)


def int_slider(description: str, value: int, min: int, max: int, step: int = 1) -> w.IntSlider:
    return w.IntSlider(value=value, min=min, max=max, step=step, description=description,
                       continuous_update=False, layout=_LAYOUT, style=_STYLE)


def dropdown(description: str, options, value=None) -> w.Dropdown:
    options = list(options)
    return w.Dropdown(options=options, value=options[0] if value is None else value,
                      description=description, layout=_LAYOUT, style=_STYLE)


def temperature_sampler(sample_fn: Callable[[float, int], str], temperature: float = 1.0,
                        seed: int = 0, max_temperature: float = 2.0) -> Live:
    """A temperature slider and a seed box over ``sample_fn(temperature, seed) -> text``.

    Temperature 0 means greedy (argmax) decoding; the seed makes each draw reproducible.
    """
    return Live(lambda temperature, seed: sample_fn(temperature, seed), {
        "temperature": float_slider("temperature", temperature, 0.0, max_temperature, 0.05),
        "seed": w.BoundedIntText(value=seed, min=0, max=10_000, description="seed",
                                 layout={"width": "200px"}, style=_STYLE),
    })
