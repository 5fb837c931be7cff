import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from utils import plot
from utils.train import History


def test_smooth_is_bias_corrected_ema():
    out = plot.smooth([1.0, 1.0, 1.0], 0.9)
    np.testing.assert_allclose(out, [1.0, 1.0, 1.0])
    assert plot.smooth([0.0, 10.0], 0.5)[1] == pytest.approx(10 * 0.5 / 0.75)


def test_plot_losses_history_and_mapping():
    hist = History(step=list(range(1, 51)), loss=list(np.linspace(3, 1, 50)), val_step=[25, 50], val_loss=[2.0, 1.2])
    ax = plot.plot_losses({"rnn": hist, "baseline": [3.0] * 50})
    labels = ax.get_legend_handles_labels()[1]
    assert labels == ["rnn train", "rnn validation", "baseline"]
    assert ax.get_xlabel() == "step" and ax.get_title() == "Training loss"


def test_plot_losses_survives_nan():
    ax = plot.plot_losses([1.0, float("nan"), 2.0])
    assert len(ax.lines) == 1


def test_grad_norms_log_scale_and_threshold():
    ax = plot.plot_grad_norms({"no clip": [1, 10, 100]}, clip=5.0)
    assert ax.get_yscale() == "log"
    assert "threshold 5" in ax.get_legend_handles_labels()[1]


def test_heatmap_labels_annotations_and_bad_input():
    m = np.arange(6).reshape(2, 3) / 6
    ax = plot.heatmap(m, row_labels=["a", "b"], col_labels=["x", "y", "z"], title="attention")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x", "y", "z"]
    assert len(ax.texts) == 6 and ax.get_title() == "attention"
    with pytest.raises(ValueError, match="2-D"):
        plot.heatmap(np.zeros(3))
