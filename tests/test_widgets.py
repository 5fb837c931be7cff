"""Widget wrappers: the callback runs with the defaults and again when a value is set in code; the result
lives in an ``ipywidgets.Output`` (widget state, which a reloaded page reads back) and, for static
renderers, as a PNG or text in the same cell output; a busy sign shows while the callback runs."""

import base64
import textwrap

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from utils import widgets  # noqa: E402

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def shown(live):
    """What the Output widget holds: the one output a browser (or a reloaded page) draws."""
    (out,) = live.output.outputs
    return out


def test_live_runs_with_defaults_and_on_change():
    calls = []

    def fn(a, b):
        calls.append((a, b))
        return f"a={a:.1f} b={b}"

    live = widgets.Live(fn, {"a": widgets.float_slider("a", 0.5, 0.0, 1.0, 0.1),
                             "b": widgets.int_slider("b", 3, 1, 10)})
    assert live.result == "a=0.5 b=3" and live.calls == 1
    live.controls["b"].value = 7
    assert live.result == "a=0.5 b=7"
    live.controls["a"].value = 0.9
    assert live.result == "a=0.9 b=7"
    assert calls == [(0.5, 3), (0.5, 7), (0.9, 7)]


def test_output_widget_holds_the_current_result_only():
    live = widgets.Live(lambda n: "x" * n, {"n": widgets.int_slider("n", 2, 1, 4)})
    assert shown(live)["data"]["text/plain"] == "xx"
    live.controls["n"].value = 3
    assert len(live.output.outputs) == 1, "a redraw must replace the output, not append to it"
    assert shown(live)["data"]["text/plain"] == "xxx"


def test_live_reports_errors_instead_of_raising():
    live = widgets.Live(lambda x: 1 / x, {"x": widgets.float_slider("x", 1.0, 0.0, 2.0, 0.5)})
    assert live.result == 1.0
    live.controls["x"].value = 0.0
    assert live.result is None and "ZeroDivisionError" in live.error
    assert shown(live)["output_type"] == "stream" and "ZeroDivisionError" in shown(live)["text"]
    live.controls["x"].value = 2.0
    assert live.result == 0.5 and live.error == ""
    assert shown(live)["data"]["text/plain"] == "0.5"


def test_figures_are_rendered_to_png_and_closed():
    def draw(k):
        fig, ax = plt.subplots()
        ax.plot(range(k))
        ax.set_title(f"k={k}")
        return fig

    before = len(plt.get_fignums())
    live = widgets.Live(draw, {"k": widgets.int_slider("k", 3, 1, 5)})
    first = base64.b64decode(shown(live)["data"]["image/png"])
    assert first.startswith(PNG_MAGIC)
    assert len(plt.get_fignums()) == before, "the rendered figure must be closed (or inline shows it twice)"
    live.controls["k"].value = 4
    assert live.result.axes[0].get_title() == "k=4"
    second = base64.b64decode(shown(live)["data"]["image/png"])
    assert second.startswith(PNG_MAGIC) and second != first
    plt.close("all")


def test_cell_output_carries_the_widget_and_a_static_copy_of_the_default():
    live = widgets.Live(lambda n: "y" * n, {"n": widgets.int_slider("n", 2, 1, 4)})
    bundle = live._repr_mimebundle_()
    assert bundle[WIDGET_MIME]["model_id"] == live._box.model_id
    assert bundle["text/plain"] == "yy", "static renderers (nbconvert, the site) must see the default result"
    assert live.output in live._box.children and all(c in live._box.children for c in live.controls.values())


def test_busy_sign_shows_while_the_callback_runs():
    seen = []

    def slow(k):
        seen.append((live.busy if k != 1 else None, widgets.BUSY_TEXT in live.status.value if k != 1 else None,
                     "recurrent-live-busy" in live.output._dom_classes if k != 1 else None))
        return str(k)

    live = widgets.Live(slow, {"k": widgets.int_slider("k", 1, 1, 5)})
    live.controls["k"].value = 2
    assert seen[-1] == (True, True, True), "while fn runs: busy, the sign shown, the stale output dimmed"
    assert not live.busy and widgets.BUSY_TEXT not in live.status.value
    assert "recurrent-live-busy" not in live.output._dom_classes
    assert live.seconds >= 0.0


def test_busy_sign_goes_away_after_an_error():
    live = widgets.Live(lambda x: 1 / x, {"x": widgets.float_slider("x", 1.0, 0.0, 2.0, 0.5)})
    live.controls["x"].value = 0.0
    assert not live.busy and widgets.BUSY_TEXT not in live.status.value


def test_temperature_sampler_resamples_on_change():
    seen = []

    def fake(temperature, seed):
        seen.append((temperature, seed))
        return f"T={temperature:.2f} seed={seed}"

    live = widgets.temperature_sampler(fake, temperature=1.0, seed=3)
    assert live.result == "T=1.00 seed=3"
    live.controls["temperature"].value = 0.5
    assert live.result == "T=0.50 seed=3"
    live.controls["seed"].value = 4
    assert live.result == "T=0.50 seed=4"
    assert seen[-1] == (0.5, 4)


def test_display_outside_a_kernel_does_not_fail():
    from IPython.display import display

    live = widgets.Live(lambda n: "x" * n, {"n": widgets.int_slider("n", 2, 1, 4)})
    display(live)
    live.controls["n"].value = 3
    assert live.result == "xxx"


def test_bad_arguments_say_what_to_do():
    with pytest.raises(ValueError, match="at least one control"):
        widgets.Live(lambda: 1, {})
    with pytest.raises(TypeError, match="'k' is a int, not an ipywidgets control"):
        widgets.Live(lambda k: k, {"k": 3})
    with pytest.raises(TypeError, match="function"):
        widgets.Live("plot", {"k": widgets.int_slider("k", 1, 1, 2)})


@pytest.mark.parametrize("make", [
    lambda: widgets.log_slider("threshold", 1.0, -2, 2),
    lambda: widgets.dropdown("f", ["tanh", "linear"]),
])
def test_controls_have_values(make):
    control = make()
    assert control.value in (1.0, "tanh")


@pytest.mark.notebook
def test_executed_headless_the_cell_shows_the_default_figure(tmp_path):
    """nbclient (as nbconvert, CI and the site run notebooks): the default result is a cell output."""
    import nbformat
    from nbclient import NotebookClient

    from bench.harness import kernel_env

    source = textwrap.dedent("""
        import matplotlib.pyplot as plt
        from utils.widgets import Live, int_slider

        def draw(k):
            fig, ax = plt.subplots()
            ax.plot(range(k))
            return fig

        Live(draw, {"k": int_slider("k", 3, 1, 5)})
    """)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute(env=kernel_env())
    outputs = nb.cells[0].outputs
    assert len(outputs) == 1, f"one output expected (the widget with its static copy), got {outputs}"
    data = outputs[0]["data"]
    assert WIDGET_MIME in data and base64.b64decode(data["image/png"]).startswith(PNG_MAGIC)
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    output_models = [m for m in state.values() if m["model_name"] == "OutputModel"]
    assert len(output_models) == 1 and output_models[0]["state"]["outputs"][0]["data"]["image/png"] == data["image/png"]
