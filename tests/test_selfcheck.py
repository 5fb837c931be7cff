"""utils.selfcheck: right answers get ✓, each typical mistake gets the hint that names it."""

import numpy as np

from utils import rnn
from utils.selfcheck import check_answer, check_rnn_step, check_rnn_step_backward


def test_check_answer(capsys):
    assert check_answer((2, 5), (2, 5), "shape")
    assert check_answer(3.0000001, 3, "number")
    assert check_answer(" Yes", "yes", "word")
    assert not check_answer(..., 3, "q")
    assert "not answered" in capsys.readouterr().out
    assert not check_answer(4, 3, "q", hint="count the biases", wrong={5: "torch has two biases"})
    assert "count the biases" in capsys.readouterr().out
    assert not check_answer(5, 3, "q", hint="generic", wrong={5: "torch has two biases"})
    out = capsys.readouterr().out
    assert "two biases" in out and "generic" not in out
    assert not check_answer((5, 2), (2, 5), "shape") and not check_answer(np.zeros(3), np.zeros(4), "s")
    assert not check_answer("no", "yes", "word")


def test_check_rnn_step_accepts_the_package_and_tuple_returns(capsys):
    assert check_rnn_step(rnn.rnn_step_forward)
    assert check_rnn_step(lambda **kw: rnn.rnn_step_forward(**kw)[0])
    assert "✓" in capsys.readouterr().out


def _fwd(x, prev_h, W_ih, W_hh, b_ih, b_hh):
    return x, prev_h, W_ih, W_hh, b_ih, b_hh


def test_check_rnn_step_names_the_wrong_term(capsys):
    cases = {
        "only the biases": lambda x, prev_h, W_ih, W_hh, b_ih, b_hh: np.tanh(x @ W_ih.T + prev_h @ W_hh.T + b_ih),
        "only x_t": lambda x, prev_h, W_ih, W_hh, b_ih, b_hh: np.tanh(x @ W_ih[:, ::-1].T + prev_h @ W_hh.T + b_ih + b_hh),
        "only h_{t-1}": lambda x, prev_h, W_ih, W_hh, b_ih, b_hh: np.tanh(x @ W_ih.T + prev_h @ W_hh + b_ih + b_hh),
        "all terms": lambda x, prev_h, W_ih, W_hh, b_ih, b_hh: np.tanh(x @ W_ih.T) + np.tanh(prev_h @ W_hh.T + b_ih + b_hh),
    }
    for label, fn in cases.items():
        assert not check_rnn_step(fn)
        out = capsys.readouterr().out
        assert "✗" in out and label in out, (label, out)


def test_check_rnn_step_unfinished_and_crashing(capsys):
    def todo(**kw):
        raise NotImplementedError

    assert not check_rnn_step(todo)
    assert "not implemented" in capsys.readouterr().out
    assert not check_rnn_step(lambda **kw: kw["x"] @ kw["W_hh"])
    assert "raised ValueError" in capsys.readouterr().out
    assert not check_rnn_step(lambda **kw: np.zeros(3))
    assert "shape" in capsys.readouterr().out


def test_check_rnn_step_backward(capsys):
    assert check_rnn_step_backward(rnn.rnn_step_backward)
    assert "✓" in capsys.readouterr().out

    def wrong_dW_hh(dnext_h, cache):
        g = list(rnn.rnn_step_backward(dnext_h, cache))
        x, prev_h, W_ih, W_hh, next_h = cache
        g[3] = (dnext_h * (1 - next_h ** 2)).T @ next_h
        return tuple(g)

    def transposed_dprev(dnext_h, cache):
        g = list(rnn.rnn_step_backward(dnext_h, cache))
        x, prev_h, W_ih, W_hh, next_h = cache
        g[1] = (dnext_h * (1 - next_h ** 2)) @ W_hh.T
        return tuple(g)

    assert not check_rnn_step_backward(wrong_dW_hh)
    assert "dW_hh" in capsys.readouterr().out
    assert not check_rnn_step_backward(transposed_dprev)
    assert "W_hh.T" in capsys.readouterr().out
    assert not check_rnn_step_backward(lambda d, c: rnn.rnn_step_backward(d, c)[:4])
    assert "six gradients" in capsys.readouterr().out
