"""Widget wrappers: the callback runs with the defaults, and again when a value is set in code."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from utils import widgets  # noqa: E402


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


def test_live_reports_errors_instead_of_raising():
    live = widgets.Live(lambda x: 1 / x, {"x": widgets.float_slider("x", 1.0, 0.0, 2.0, 0.5)})
    assert live.result == 1.0
    live.controls["x"].value = 0.0
    assert live.result is None and "ZeroDivisionError" in live.error
    live.controls["x"].value = 2.0
    assert live.result == 0.5 and live.error == ""


def test_figures_are_rendered_to_png_and_closed():
    def draw(k):
        fig, ax = plt.subplots()
        ax.plot(range(k))
        ax.set_title(f"k={k}")
        return fig

    live = widgets.Live(draw, {"k": widgets.int_slider("k", 3, 1, 5)})
    before = plt.get_fignums()
    image = live._renderable()
    assert image.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(plt.get_fignums()) == len(before) - 1
    live.controls["k"].value = 4
    assert live.result.axes[0].get_title() == "k=4"
    plt.close("all")


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


def test_display_outside_a_kernel_does_not_fail(capsys):
    live = widgets.Live(lambda n: "x" * n, {"n": widgets.int_slider("n", 2, 1, 4)})
    live._ipython_display_()
    live.controls["n"].value = 3  # no display handle outside a kernel: still updates .result
    assert live.result == "xxx"


@pytest.mark.parametrize("make", [
    lambda: widgets.log_slider("threshold", 1.0, -2, 2),
    lambda: widgets.dropdown("f", ["tanh", "linear"]),
])
def test_controls_have_values(make):
    control = make()
    assert control.value in (1.0, "tanh")
