"""utils.graphs draws without error, labels what it draws, and rejects bad masks."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from utils.graphs import SHAPES, draw_shapes, draw_unrolled  # noqa: E402


def _texts(ax):
    return [t.get_text() for t in ax.texts]


def test_unrolled_has_every_step_and_shared_weights():
    ax = draw_unrolled(4, title="t")
    texts = _texts(ax)
    assert all(f"$h_{{{t}}}$" in texts for t in range(1, 5)) and "$h_0$" in texts
    assert texts.count("$W_{hh}$") == 4 and texts.count("$W_{ih}$") == 4
    plt.close("all")


def test_masks_and_backward_truncation():
    ax = draw_unrolled(6, inputs="first", outputs="last", backward=True, truncate=2)
    texts = _texts(ax)
    assert "$x_{1}$" in texts and "$x_{2}$" not in texts and "$y_{6}$" in texts and "$y_{5}$" not in texts
    assert sum("stops here" in t for t in texts) == 2
    with pytest.raises(ValueError):
        draw_unrolled(3, inputs=[1, 0])
    with pytest.raises(ValueError):
        draw_unrolled(0)
    plt.close("all")


def test_shapes_figure_names_all_five():
    ax = draw_shapes()
    assert all(name in _texts(ax) for name in SHAPES)
    plt.close("all")
