import numpy as np
import pytest
import torch

from utils.tasks import (ADDING_BASELINE_MSE, RECALL_DEMO, SequenceClassifier, SequenceRegressor,
                         adding_problem, delayed_recall, evaluate_many_to_one, run_recall, train_many_to_one)


def test_delayed_recall_target_is_the_first_symbol_and_the_rest_is_distractors():
    x, y = delayed_recall(200, lag=7, num_symbols=3, num_distractors=5, rng=1)
    assert x.shape == (200, 9, 9) and y.shape == (200,) and x.dtype == np.float32
    ids = x.argmax(-1)
    assert (x.sum(-1) == 1).all()                       # one-hot
    assert (ids[:, 0] == y).all() and set(y) == {0, 1, 2}
    assert ((ids[:, 1:-1] >= 3) & (ids[:, 1:-1] < 8)).all()
    assert (ids[:, -1] == 8).all()                      # the query token


def test_delayed_recall_is_reproducible_from_a_seed_and_varies_with_it():
    a, b, c = (delayed_recall(50, 4, rng=s)[0] for s in (0, 0, 1))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_delayed_recall_rejects_bad_arguments():
    with pytest.raises(ValueError, match="lag >= 0"):
        delayed_recall(10, -1)


def test_adding_problem_target_is_the_sum_of_the_two_marked_values():
    x, y = adding_problem(500, T=20, rng=3)
    assert x.shape == (500, 20, 2) and y.shape == (500,)
    assert (x[..., 1].sum(1) == 2).all()
    assert np.allclose((x[..., 0] * x[..., 1]).sum(1), y)
    first = x[..., 1].argmax(1)
    assert (first < 10).all()  # one mark in each half


def test_adding_baseline_mse_is_one_sixth():
    _, y = adding_problem(200_000, T=10, rng=0)
    assert abs(np.mean((y - 1.0) ** 2) - ADDING_BASELINE_MSE) < 2e-3


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_many_to_one_models_shapes(cell):
    x, _ = delayed_recall(5, 3)
    assert SequenceClassifier(x.shape[-1], 8, 4, cell)(torch.as_tensor(x)).shape == (5, 4)
    xa, _ = adding_problem(5, 6)
    assert SequenceRegressor(2, 8, cell)(torch.as_tensor(xa)).shape == (5,)


@pytest.mark.slow
def test_training_learns_a_short_recall_and_metrics_are_what_they_say():
    torch.manual_seed(0)
    model = SequenceClassifier(9, 16, 4, "rnn")
    test = delayed_recall(500, 2, rng=99)
    before = evaluate_many_to_one(model, *test)
    result = train_many_to_one(model, lambda rng: delayed_recall(64, 2, rng=rng), steps=150,
                               lr=1e-2, test_batch=test)
    assert len(result.loss) == 150 and result.loss[-1] < result.loss[0]
    assert result.test_metric > 0.95 > before


def test_regression_reports_mse():
    torch.manual_seed(0)
    model = SequenceRegressor(2, 4, "gru")
    x, y = adding_problem(100, 5, rng=0)
    mse = evaluate_many_to_one(model, x, y)
    with torch.no_grad():
        pred = model(torch.as_tensor(x)).numpy()
    assert mse == pytest.approx(float(np.mean((pred - y) ** 2)), rel=1e-5)


def test_run_recall_uses_the_shared_settings():
    result = run_recall("rnn", lag=1, settings={"steps": 5, "test_size": 20})
    assert result.steps == 5 and len(result.loss) == 5 and 0 <= result.test_metric <= 1
    assert RECALL_DEMO["steps"] > 5


def test_memory_bias_sets_the_gates_that_keep_memory():
    from utils.tasks import set_memory_bias

    lstm, gru = torch.nn.LSTM(3, 4, num_layers=2), torch.nn.GRU(3, 4)
    set_memory_bias(lstm, 5.0)
    set_memory_bias(gru, 2.0)
    for layer in (0, 1):
        total = getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}")
        assert torch.allclose(total[4:8], torch.full((4,), 5.0)) and torch.allclose(total[:4], torch.full((4,), -5.0))
    assert torch.allclose((gru.bias_ih_l0 + gru.bias_hh_l0)[4:8], torch.full((4,), 2.0))
    with pytest.raises(ValueError, match="nn.LSTM"):
        set_memory_bias(torch.nn.RNN(3, 4), 1.0)


def test_run_recall_rejects_unknown_settings_and_applies_the_gate_bias():
    with pytest.raises(ValueError, match="unknown recall settings"):
        run_recall("lstm", 1, {"stepz": 3})
    assert RECALL_DEMO["lags"] == tuple(sorted(RECALL_DEMO["lags"])) and RECALL_DEMO["gate_bias"] > 0
    short = {"steps": 1, "test_size": 10}
    assert run_recall("gru", 2, short).cell == "gru" and run_recall("rnn", 2, short).cell == "rnn"
