"""utils.cellcheck: correct cells pass; each realistic mistake is caught and named."""

import numpy as np
import pytest
import torch

from utils.cellcheck import check_gru_step, check_lstm_step
from utils.gru import gru_step_forward
from utils.lstm import lstm_step_forward, sigmoid


def lstm_variant(mistake=None):
    def step(x, prev_h, prev_c, W_ih, W_hh, b_ih, b_hh):
        H = prev_h.shape[1]
        a = x @ W_ih.T + b_ih + prev_h @ W_hh.T + (0 if mistake == "no b_hh" else b_hh)
        blocks = [a[:, k * H:(k + 1) * H] for k in range(4)]
        if mistake == "ifog":
            i, f, o, g = blocks
        else:
            i, f, g, o = blocks
        i, f, o = sigmoid(i), sigmoid(f), sigmoid(o)
        g = sigmoid(g) if mistake == "sigmoid g" else np.tanh(g)
        c = f * (prev_h if mistake == "f times h" else prev_c) + i * g
        h = o * (c if mistake == "no tanh" else np.tanh(c))
        return h, c
    return step


def gru_variant(mistake=None):
    def step(x, prev_h, W_ih, W_hh, b_ih, b_hh):
        H = prev_h.shape[1]
        gi, gh = x @ W_ih.T + b_ih, prev_h @ W_hh.T + b_hh
        r, z = sigmoid(gi[:, :H] + gh[:, :H]), sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
        if mistake == "paper":
            n = np.tanh(gi[:, 2 * H:] + (r * prev_h) @ W_hh[2 * H:].T + b_hh[2 * H:])
        elif mistake == "b_hn outside":
            n = np.tanh(gi[:, 2 * H:] + r * (prev_h @ W_hh[2 * H:].T) + b_hh[2 * H:])
        else:
            n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
        return z * n + (1 - z) * prev_h if mistake == "write" else (1 - z) * n + z * prev_h
    return step


def run(check, fn, capsys):
    ok = check(fn)
    return ok, capsys.readouterr().out


def test_correct_cells_pass(capsys):
    assert run(check_lstm_step, lstm_variant(), capsys)[0]
    assert run(check_lstm_step, lambda **kw: lstm_step_forward(**kw), capsys)[0]   # returns a cache too
    assert run(check_gru_step, gru_variant(), capsys)[0]
    assert run(check_gru_step, lambda **kw: gru_step_forward(**kw), capsys)[0]


def test_torch_cells_pass(capsys):
    def torch_lstm(x, prev_h, prev_c, W_ih, W_hh, b_ih, b_hh):
        cell = torch.nn.LSTMCell(W_ih.shape[1], prev_h.shape[1]).double()
        with torch.no_grad():
            for p, v in zip(cell.parameters(), (W_ih, W_hh, b_ih, b_hh)):
                p.copy_(torch.tensor(v))
            h, c = cell(torch.tensor(x), (torch.tensor(prev_h), torch.tensor(prev_c)))
        return h.numpy(), c.numpy()
    assert run(check_lstm_step, torch_lstm, capsys)[0]


@pytest.mark.parametrize("mistake,words", [
    ("ifog", "i, f, o, g"), ("sigmoid g", "g = tanh"), ("f times h", "multiplied by prev_c"),
    ("no tanh", "tanh(next_c)"), ("no b_hh", "forget gate alone"),
])
def test_lstm_mistakes_are_named(mistake, words, capsys):
    ok, out = run(check_lstm_step, lstm_variant(mistake), capsys)
    assert not ok and out.startswith("✗") and words in out


@pytest.mark.parametrize("mistake,words", [
    ("write", "z weighs the candidate"), ("paper", "paper's GRU"), ("b_hn outside", "b_hn goes too"),
])
def test_gru_mistakes_are_named(mistake, words, capsys):
    ok, out = run(check_gru_step, gru_variant(mistake), capsys)
    assert not ok and words in out


def test_unfinished_and_crashing_cells_do_not_stop_the_notebook(capsys):
    def todo(**kw):
        raise NotImplementedError

    ok, out = run(check_lstm_step, todo, capsys)
    assert not ok and "not implemented yet" in out
    ok, out = run(check_gru_step, lambda **kw: 1 / 0, capsys)
    assert not ok and "ZeroDivisionError" in out
    ok, out = run(check_lstm_step, lambda **kw: kw["prev_h"], capsys)
    assert not ok and "(next_h, next_c)" in out
