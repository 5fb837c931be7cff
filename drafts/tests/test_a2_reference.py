"""Assignment 2's reference solution is right and is the course's: its cells are torch's
(``nn.LSTMCell``, ``nn.GRUCell``, ``nn.LSTM(batch_first=True)``) and ``utils.lstm`` / ``utils.gru``'s, its
numpy backward agrees with central differences and with ``utils.lstm``, the verdicts' loop variants are the
reference loop with one behaviour changed, the verdicts name each known slip, and the adding-problem budget
holds (the reference's trained model reaches the target, the vanilla RNN does not). The rows every
assignment gets are in test_autograder_spec.py."""

import numpy as np
import pytest
import torch
from torch import nn

from autograder import assignments, reference
from autograder.compare import numerical_gradient, rel_error
from autograder.kernel import flatten

REF = reference.load("a2")
SPEC = assignments.get("a2").spec


def t(seed, *shape, dtype=torch.float64):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(dtype)


def test_points_total_17():
    assert sum(SPEC.QUESTIONS.values()) == 17


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_lstm_cell_is_nn_lstmcell_and_utils(dtype):
    import utils.lstm as lstm

    torch.manual_seed(0)
    cell = nn.LSTMCell(3, 5).to(dtype)
    x, h, c = t(1, 4, 3, dtype=dtype), t(2, 4, 5, dtype=dtype), t(3, 4, 5, dtype=dtype)
    weights = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    with torch.no_grad():
        ours, theirs, course = REF.lstm_cell(x, (h, c), *weights), cell(x, (h, c)), lstm.lstm_cell(x, (h, c), *weights)
    tol = 1e-12 if dtype == torch.float64 else 1e-6
    for a, b, u in zip(ours, theirs, course):
        assert a.dtype == dtype
        assert torch.allclose(a, b, atol=tol) and torch.allclose(a, u, atol=tol)


def test_gru_cell_is_nn_grucell_and_not_the_papers():
    import utils.gru as gru

    torch.manual_seed(0)
    cell = nn.GRUCell(3, 4).double()
    x, h = t(1, 2, 3), t(2, 2, 4)
    weights = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    with torch.no_grad():
        ours = REF.gru_cell(x, h, *weights)
        assert torch.allclose(ours, cell(x, h), atol=1e-12)
        assert torch.allclose(ours, gru.gru_cell(x, h, *weights), atol=1e-12)
        assert not torch.allclose(ours, gru.gru_cell(x, h, *weights, reset="before"), atol=1e-3)


def test_lstm_layer_is_one_layer_of_nn_lstm_batch_first():
    torch.manual_seed(0)
    module = nn.LSTM(3, 4, batch_first=True).double()
    x, h0, c0 = t(1, 2, 6, 3), t(2, 1, 2, 4), t(3, 1, 2, 4)
    with torch.no_grad():
        out, (h_n, c_n) = module(x, (h0, c0))
        ours, (h, c) = REF.lstm_layer(x, (h0[0], c0[0]), module.weight_ih_l0, module.weight_hh_l0,
                                      module.bias_ih_l0, module.bias_hh_l0)
    assert torch.allclose(ours, out, atol=1e-12)
    assert torch.allclose(h, h_n[0], atol=1e-12) and torch.allclose(c, c_n[0], atol=1e-12)


def test_step_backward_is_utils_and_central_differences():
    import utils.lstm as lstm

    r = np.random.default_rng(0)
    args = [r.standard_normal(s) for s in ((3, 4), (3, 5), (3, 5), (20, 4), (20, 5), (20,), (20,))]
    dh, dc = r.standard_normal((3, 5)), r.standard_normal((3, 5))
    _, _, cache = REF.lstm_step_forward(*args)
    ours = REF.lstm_step_backward(dh, dc, cache)
    for a, b in zip(ours, lstm.lstm_step_backward(dh, dc, cache), strict=True):
        assert np.allclose(a, b, atol=1e-12)

    def f():
        next_h, next_c, _ = REF.lstm_step_forward(*args)
        return np.concatenate([next_h, next_c], axis=1)

    for i, grad in enumerate(ours):
        assert rel_error(grad, numerical_gradient(f, args[i], np.concatenate([dh, dc], axis=1))) < 1e-6, i


def _outputs(value) -> dict:
    out = {}
    flatten(value, "out", out)
    return out


def _case(cid):
    return next(c for c in SPEC.hidden_cases(REF) if c.id == cid)


def test_cell_verdicts_name_the_slips():
    import utils.gru as gru
    import utils.lstm as lstm

    case = _case("q3.float64")
    args = [a.detach() for a in case.args]
    paper = SPEC.check_cell(case, _outputs(gru.gru_cell(*args, reset="before")), REF, kind="gru")
    swapped = SPEC.check_cell(case, _outputs(gru.gru_cell(*args, update="write")), REF, kind="gru")
    assert not paper.passed and "paper's GRU" in paper.message
    assert not swapped.passed and "z keeps the old state" in swapped.message
    case = _case("q1.float64")
    x, (h, c), *w = case.args
    w = [lstm.reorder_gates(v, "ifgo", "ifog") for v in w]  # a cell that reads the blocks as i, f, o, g
    ifog = SPEC.check_cell(case, _outputs(lstm.lstm_cell(x, (h, c), *w)), REF, kind="lstm")
    assert not ifog.passed and "i, f, o, g" in ifog.message


def test_step_backward_verdict_names_the_gate():
    case = _case("q2.both")
    grads = [np.array(g) for g in REF.lstm_step_backward(*case.args)]
    H = case.args[0].shape[1]
    grads[5][H:2 * H] *= 2.0  # db_ih wrong in the forget gate's block only
    outcome = SPEC.check_step_backward(case, _outputs(tuple(grads)), REF)
    assert not outcome.passed and "db_ih is wrong in the block of gate f" in outcome.message
    assert SPEC.check_step_backward(case, _outputs(REF.lstm_step_backward(*case.args)), REF).passed


def _run_tbptt(case, **behaviour):
    model_cfg, ids, cfg = case.args[0], case.args[1], case.args[2]
    if behaviour:
        params, losses = SPEC._tbptt(REF.CharLSTM(**model_cfg.fields), ids, REF.TBPTTConfig(**cfg.fields), **behaviour)
        return {**{f"out.0.{k}": v for k, v in params.items()}, "out.1": losses}
    model, losses = REF.train_tbptt(REF.CharLSTM(**model_cfg.fields), ids, REF.TBPTTConfig(**cfg.fields), "cpu")
    return _outputs((model, losses))


def test_tbptt_verdicts_tell_the_behaviours_apart():
    """The verdicts' loop is the reference loop; resetting every batch and carrying across epochs are named."""
    one_epoch, two_epochs = _case("q5.one_epoch"), _case("q5.two_epochs")
    assert SPEC.check_tbptt(one_epoch, _run_tbptt(one_epoch), REF).passed
    assert SPEC.check_tbptt(two_epochs, _run_tbptt(two_epochs), REF).passed
    reset = SPEC.check_tbptt(one_epoch, _run_tbptt(one_epoch, carry=False), REF)
    assert not reset.passed and "reset at every batch" in reset.message
    kept = SPEC.check_tbptt(two_epochs, _run_tbptt(two_epochs, reset_epoch=False), REF)
    assert not kept.passed and "from one epoch into the next" in kept.message
    # a graph-reuse error (h detached, c not) is explained
    error = {"error": np.array("RuntimeError: Trying to backward through the graph a second time")}
    assert "detach both h and c" in SPEC.check_tbptt(one_epoch, error, REF).message


def test_tbptt_clip_bound_is_global():
    case = _case("q5.clip_bound")
    assert SPEC.check_clip_bound(case, _run_tbptt(case), REF).passed
    model_cfg, ids, cfg = case.args[0], case.args[1], case.args[2]
    model = REF.CharLSTM(**model_cfg.fields)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    x, y = next(iter(REF.StreamBatches(ids, cfg.fields["batch_size"], cfg.fields["seq_len"])))
    logits, _ = model(torch.as_tensor(x))
    nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), torch.as_tensor(y).reshape(-1)).backward()
    for p in model.parameters():  # per-parameter clipping: each at most max_norm, together more
        nn.utils.clip_grad_norm_(p, cfg.fields["max_norm"])
    optimizer.step()
    outcome = SPEC.check_clip_bound(case, _outputs((model, [0.0])), REF)
    assert not outcome.passed and "not each parameter's" in outcome.message


def test_forbidden_names_are_real_torch_callables():
    import importlib

    for question, names in SPEC.FORBIDDEN.items():
        assert question in SPEC.QUESTIONS
        for dotted in names:
            module, _, attr = dotted.rpartition(".")
            assert callable(getattr(importlib.import_module(module), attr)), dotted


@pytest.mark.slow
def test_adding_budget_reaches_the_target_and_the_vanilla_rnn_does_not():
    """The notebook's budget (ADDING_STEPS updates): the reference's trained model is below the target on the
    hidden fresh sequences; the vanilla RNN trained by the same train_adding is far above it."""
    case = _case("q6.fresh")
    with torch.no_grad():
        pred = REF.adding_model(case.args[0].to(next(REF.adding_model.parameters()).device))
    assert SPEC.check_adding(case, _outputs(pred), REF).passed
    torch.manual_seed(0)
    baseline = REF.VanillaRNN()
    REF.train_adding(baseline, REF.ADDING_STEPS)
    assert REF.adding_mse(baseline) > 0.1
