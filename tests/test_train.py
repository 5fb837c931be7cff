import math

import numpy as np
import pytest
import torch

from utils.train import History, train


def tiny_problem(seed=0):
    torch.manual_seed(seed)
    X = torch.randn(64, 3)
    y = X @ torch.tensor([1.0, -2.0, 0.5]) + 0.3
    model = torch.nn.Linear(3, 1)
    batches = [(X[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)]

    def loss_fn(batch):
        xb, yb = batch
        return torch.nn.functional.mse_loss(model(xb).squeeze(-1), yb)

    return model, batches, loss_fn


def test_loss_goes_down_and_history_is_complete(capsys):
    model, batches, loss_fn = tiny_problem()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    evals = []
    hist = train(model, opt, batches, loss_fn, steps=200, eval_fn=lambda: evals.append(1) or 0.0,
                 eval_every=50, live_plot=False)
    assert isinstance(hist, History)
    assert hist.step == list(range(1, 201))  # batches were cycled past their length
    assert hist.loss[-1] < 0.01 * hist.loss[0]
    assert len(hist.grad_norm) == 200 and not any(hist.clipped)
    assert hist.val_step == [50, 100, 150, 200] and len(evals) == 4
    assert "200 steps, final loss" in capsys.readouterr().out


def test_grad_norm_is_the_global_norm_before_clipping():
    model, batches, loss_fn = tiny_problem()
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    hist = train(model, opt, batches[:1], loss_fn, steps=1, clip_norm=1e-3, live_plot=False)
    opt.zero_grad()
    loss_fn(batches[0]).backward()
    expected = math.sqrt(sum(float((p.grad ** 2).sum()) for p in model.parameters()))
    assert hist.grad_norm[0] == pytest.approx(expected, rel=1e-5)
    assert hist.clipped == [True]


def test_clipping_limits_the_update():
    model, batches, loss_fn = tiny_problem()
    before = [p.detach().clone() for p in model.parameters()]
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    train(model, opt, batches[:1], loss_fn, steps=1, clip_norm=0.5, live_plot=False)
    step = torch.cat([(p.detach() - b).flatten() for p, b in zip(model.parameters(), before)])
    assert float(step.norm()) == pytest.approx(0.5, rel=1e-4)


def test_stops_at_nonfinite_loss(capsys):
    model, batches, loss_fn = tiny_problem()
    opt = torch.optim.SGD(model.parameters(), lr=10.0)  # diverges
    hist = train(model, opt, batches, loss_fn, steps=500, live_plot=False)
    assert len(hist.loss) < 500 and not math.isfinite(hist.loss[-1])
    captured = capsys.readouterr()
    assert "; stopping (lower the learning rate" in captured.out + captured.err


def test_bad_arguments():
    model, batches, loss_fn = tiny_problem()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="steps must be >= 1"):
        train(model, opt, batches, loss_fn, steps=0)
    with pytest.raises(ValueError, match="no trainable parameters"):
        train([], opt, batches, loss_fn, steps=1)
    with pytest.raises(ValueError, match="batches ran out"):
        train(model, opt, iter(batches), loss_fn, steps=10, live_plot=False)
