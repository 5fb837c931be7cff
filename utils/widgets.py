"""Small wrappers over ipywidgets: controls whose output is redrawn in place when they change.

``Live(fn, controls)`` calls ``fn(**values)`` once with the default values and again on every
change. Displaying a ``Live`` shows the controls above an ``ipywidgets.Output`` holding the result
(a string, a matplotlib figure, or anything IPython can display), and moving a control replaces
the Output's contents. Three places read that one cell output:

- **JupyterLab / Notebook 7** render the widget. The Output's contents are widget *state*, kept by
  the kernel, so a reloaded page (or a notebook closed and reopened while the kernel runs) gets
  the controls and the current result back and keeps redrawing. (The previous version updated a
  display id, which a reloaded page no longer listens to: the slider moved, the plot stayed stale.)
- **Static renderers** (``nbconvert --execute``, CI, the course site, GitHub) have no widget
  manager; the same output also carries the default values' result as an ordinary PNG or text,
  so an executed notebook still shows it.
- **Tests** read ``.result`` after setting ``control.value`` in code.

While ``fn`` runs (retraining a model can take seconds), a busy sign ("⏳ recomputing ...") shows
next to the controls and the stale result is dimmed; both go when the new result is in.

This is the only module that imports ipywidgets.
"""

from __future__ import annotations

import base64
import io
import time
from typing import Any, Callable, Mapping

import ipywidgets as w

_LAYOUT = {"width": "420px"}
_STYLE = {"description_width": "120px"}
BUSY_TEXT = "⏳ recomputing ..."
_BUSY_CLASS = "recurrent-live-busy"
# Dims the stale result while a redraw runs (the status widget's <style> applies to the page).
_BUSY_CSS = f"<style>.{_BUSY_CLASS} {{ opacity: 0.35; transition: opacity 0.2s; }}</style>"


class Live:
    """Controls plus an output that ``fn(**{name: control.value})`` redraws when a value changes.

    Args:
        fn: called with one keyword argument per control; returns a str (shown as plain text),
            a matplotlib Figure (shown as an image, then closed), or any displayable object.
        controls: name -> ipywidgets control (anything with a ``value`` trait).

    Attributes:
        result: what ``fn`` returned last.  calls: how many times it ran.  error: the last
            exception's message, or "" (a failing callback shows its error instead of dying silently).
        seconds: how long the last call took.  busy: True while ``fn`` runs.
        output: the ``ipywidgets.Output`` showing the result.  status: the busy sign (an HTML widget).
    """

    def __init__(self, fn: Callable[..., Any], controls: Mapping[str, w.ValueWidget]):
        if not callable(fn):
            raise TypeError(f"Live needs a function to call, got {type(fn).__name__}")
        self.fn, self.controls = fn, dict(controls)
        if not self.controls:
            raise ValueError("Live needs at least one control, e.g. {'k': int_slider('k', 3, 1, 10)}")
        for name, control in self.controls.items():
            if not hasattr(control, "value") or not hasattr(control, "observe"):
                raise TypeError(f"control {name!r} is a {type(control).__name__}, not an ipywidgets control "
                                "with a value (use float_slider, int_slider, dropdown, ...)")
        self.result: Any = None
        self.error, self.calls, self.seconds, self.busy = "", 0, 0.0, False
        self.output = w.Output()
        self.status = w.HTML(value=_BUSY_CSS)
        self._box = w.VBox([*self.controls.values(), self.status, self.output])
        self._box.add_class("recurrent-live")  # class names the browser test finds them by
        self.output.add_class("recurrent-live-output")
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.refresh()

    def values(self) -> dict[str, Any]:
        return {name: c.value for name, c in self.controls.items()}

    def refresh(self) -> Any:
        """Recompute with the current values and replace the shown output."""
        self._set_busy(True)
        start = time.perf_counter()
        try:
            self.result, self.error = self.fn(**self.values()), ""
        except Exception as exc:  # show the learner what went wrong next to the control
            self.result, self.error = None, f"{type(exc).__name__}: {exc}"
        finally:
            self.seconds = time.perf_counter() - start
            self.calls += 1
            # One assignment replaces the contents: the widget state a reloaded page reads is current.
            self.output.outputs = (self._output_json(),)
            self._set_busy(False)
        return self.result

    def _set_busy(self, busy: bool) -> None:
        # Trait changes reach the browser while fn runs: ipykernel sends them from its IOPub thread.
        self.busy = busy
        sign = f"<span class='recurrent-live-status'>{BUSY_TEXT}</span>" if busy else ""
        self.status.value = _BUSY_CSS + sign
        if busy:
            self.output.add_class(_BUSY_CLASS)
        else:
            self.output.remove_class(_BUSY_CLASS)

    def _on_change(self, change) -> None:
        self.refresh()

    # ------------------------------------------------------------------ rendering

    def _renderable(self):
        """The current result as an IPython display object (figures rendered to PNG and closed)."""
        from IPython.display import Image, Pretty

        if self.error:
            return Pretty(f"error: {self.error}")
        result = self.result
        if isinstance(result, str):
            return Pretty(result)
        if type(result).__name__ == "Figure" and hasattr(result, "savefig"):
            import matplotlib.pyplot as plt

            buf = io.BytesIO()
            result.savefig(buf, format="png", dpi=90, bbox_inches="tight")
            plt.close(result)  # rendered: keep the inline backend from showing it again
            return Image(buf.getvalue(), format="png")
        return result

    def _mime_bundle(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(data, metadata) of the current result, JSON-ready (binary data base64-encoded)."""
        from IPython.core.formatters import DisplayFormatter

        obj = self._renderable()
        if obj is None:
            return {"text/plain": "None"}, {}
        try:
            from IPython import get_ipython

            formatter = get_ipython().display_formatter
        except AttributeError:  # no IPython shell (plain Python, pytest)
            formatter = DisplayFormatter()
        data, metadata = formatter.format(obj)
        data = {mime: base64.b64encode(value).decode("ascii") if isinstance(value, bytes) else value
                for mime, value in data.items()}
        return data, metadata

    def _output_json(self) -> dict[str, Any]:
        if self.error:  # shown like a stderr stream: red in JupyterLab
            return {"output_type": "stream", "name": "stderr", "text": f"error: {self.error}\n"}
        data, metadata = self._mime_bundle()
        return {"output_type": "display_data", "data": data, "metadata": metadata}

    def _repr_mimebundle_(self, include=None, exclude=None):
        # The widget for live frontends, plus the result as PNG/text for static renderers (which
        # skip the widget mime type they cannot draw). JupyterLab ranks the widget first.
        out = self.output.outputs[0] if self.output.outputs else {}
        static = dict(out.get("data", {}))
        if out.get("output_type") == "stream":
            static = {"text/plain": out["text"]}
        bundle = dict(self._box._repr_mimebundle_(include=include, exclude=exclude) or {})
        bundle.update(static)
        return bundle


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
