"""Assignment 1's reference solution is right and is the course's: the same functions as ``utils.rnn``
and ``utils.charlm`` (torch's layout, the mean loss), gradients against central differences, clipping
against torch's rule, the stated loss target reached with margin; BPTT verdicts name the missing path;
a backward made of finite differences does not earn the large case. (The rows every assignment gets are
in test_autograder_spec.py.)"""

import numpy as np
import pytest

from autograder import assignments, notebooks, reference
from autograder.cases import outputs_to_bytes, read_outputs
from autograder.compare import numerical_gradient, rel_error
from autograder.kernel import flatten, run_case
from test_autograder_spec import graded

REF = reference.load("a1")
SPEC = assignments.get("a1").spec


def rnd(seed, *shape):
    return np.random.default_rng(seed).standard_normal(shape)


def test_points_total_19():
    assert sum(SPEC.QUESTIONS.values()) == 19


def test_the_reference_is_utils_rnn_and_utils_charlm():
    """A1 is written in the course's layout: its reference gives utils.rnn's and utils.charlm's numbers."""
    import utils.charlm as charlm
    import utils.rnn as rnn

    step = [rnd(1, 3, 4), rnd(2, 3, 5), rnd(3, 5, 4), rnd(4, 5, 5), rnd(5, 5), rnd(6, 5)]
    ours, theirs = REF.rnn_step_forward(*step), rnn.rnn_step_forward(*step)
    assert np.allclose(ours[0], theirs[0], atol=1e-12)
    dnext = rnd(7, 3, 5)
    for a, b in zip(REF.rnn_step_backward(dnext, ours[1]), rnn.rnn_step_backward(dnext, theirs[1]), strict=True):
        assert np.allclose(a, b, atol=1e-12)
    seq = [rnd(1, 2, 6, 3), rnd(2, 2, 4), rnd(3, 4, 3), rnd(4, 4, 4) * 0.5, rnd(5, 4), rnd(6, 4)]
    ours, theirs = REF.rnn_forward(*seq), rnn.rnn_forward(*seq)
    assert np.allclose(ours[0], theirs[0], atol=1e-12)
    dh = rnd(7, 2, 6, 4)
    for a, b in zip(REF.rnn_backward(dh, ours[1]), rnn.rnn_backward(dh, theirs[1]), strict=True):
        assert np.allclose(a, b, atol=1e-12)
    scores, y = rnd(8, 2, 3, 5), np.array([[0, 4, 1], [2, 2, 3]])
    mask = np.array([[True, False, True], [True, True, False]])
    for a, b in zip(REF.temporal_softmax_loss(scores, y, mask), charlm.temporal_softmax_loss(scores, y, mask)):
        assert np.allclose(a, b, atol=1e-12)
    h, W, b = rnd(9, 2, 3, 4), rnd(10, 5, 4), rnd(11, 5)
    assert np.allclose(REF.linear_forward(h, W, b)[0], rnn.linear_forward(h, W, b)[0], atol=1e-12)


def test_reference_step_backward_matches_numerical_gradient():
    args = [rnd(1, 3, 4), rnd(2, 3, 5), rnd(3, 5, 4), rnd(4, 5, 5), rnd(5, 5), rnd(6, 5)]
    dout = rnd(7, 3, 5)
    _, cache = REF.rnn_step_forward(*args)
    grads = REF.rnn_step_backward(dout, cache)
    for i, grad in enumerate(grads):
        expected = numerical_gradient(lambda: REF.rnn_step_forward(*args)[0], args[i], dout)
        assert rel_error(grad, expected) < 1e-6, f"gradient {i}"


def test_reference_rnn_backward_matches_numerical_gradient():
    args = [rnd(1, 2, 4, 3), rnd(2, 2, 5), rnd(3, 5, 3) * 0.5, rnd(4, 5, 5) * 0.5, rnd(5, 5), rnd(6, 5)]
    dout = rnd(7, 2, 4, 5)
    _, cache = REF.rnn_forward(*args)
    grads = REF.rnn_backward(dout, cache)
    for i, grad in enumerate(grads):
        expected = numerical_gradient(lambda: REF.rnn_forward(*args)[0], args[i], dout)
        assert rel_error(grad, expected) < 1e-6, f"gradient {i}"


def test_reference_embedding_linear_and_loss_gradients():
    x, W = np.array([[0, 2, 2], [1, 2, 0]]), rnd(1, 3, 4)
    dout = rnd(2, 2, 3, 4)
    dW = REF.embedding_backward(dout, REF.embedding_forward(x, W)[1])
    assert rel_error(dW, numerical_gradient(lambda: REF.embedding_forward(x, W)[0], W, dout)) < 1e-7
    h, Wo, bo, dy = rnd(3, 2, 3, 4), rnd(4, 5, 4), rnd(5, 5), rnd(6, 2, 3, 5)
    grads = REF.linear_backward(dy, REF.linear_forward(h, Wo, bo)[1])
    for value, grad in zip((h, Wo, bo), grads):
        assert rel_error(grad, numerical_gradient(lambda: REF.linear_forward(h, Wo, bo)[0], value, dy)) < 1e-6
    scores, y = rnd(3, 2, 3, 5), np.array([[0, 4, 1], [2, 2, 3]])
    mask = np.array([[True, False, True], [False, False, False]])
    loss, dx = REF.temporal_softmax_loss(scores, y, mask)
    num = numerical_gradient(lambda: np.array(REF.temporal_softmax_loss(scores, y, mask)[0]), scores, np.array(1.0))
    assert rel_error(dx, num) < 1e-6
    assert np.all(dx[1] == 0), "a fully masked row has no gradient"
    assert REF.temporal_softmax_loss(scores, y, np.zeros((2, 3), bool))[0] == 0.0
    big_loss, big_dx = REF.temporal_softmax_loss(1e4 * scores, y, mask)
    assert np.isfinite(big_loss) and np.all(np.isfinite(big_dx))


def test_reference_clip_matches_torch_rule():
    import torch
    grads = {"a": rnd(1, 3, 2), "b": rnd(2, 4)}
    clipped, total = REF.clip_grad_norm(grads, 0.7)
    params = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads.values()]
    for p, g in zip(params, grads.values()):
        p.grad = torch.tensor(g)
    torch_total = torch.nn.utils.clip_grad_norm_(params, 0.7)
    assert abs(total - float(torch_total)) < 1e-12
    for p, g in zip(params, clipped.values()):
        assert np.allclose(p.grad.numpy(), g, atol=1e-12)


def test_reference_reaches_the_stated_loss_target_with_the_given_evaluation():
    params, losses = REF.train_char_lm(REF.CORPUS_IDS, len(REF.CHARS), REF.TrainConfig())
    assert len(losses) == REF.TrainConfig().steps
    loss = REF.evaluate_loss(params, REF.CORPUS_IDS)
    assert loss < SPEC.LOSS_TARGET * 0.5, f"reference evaluation loss {loss:.3f} leaves too little margin"
    text = "".join(c.source for c in notebooks.read(assignments.get("a1").notebook).cells)
    assert "below 1.0 nat" in text and "evaluate_loss(params, CORPUS_IDS)" in text


@pytest.mark.parametrize("mistake,words", [
    ("q2_dprev_h_not_propagated", "nothing flows back from step t+1"),
    ("q2_upstream_only_at_the_end", "used only at the last step: add dh[:, t] at every step"),
])
def test_bptt_verdicts_name_the_missing_path(mistake, words):
    g = graded("a1")
    m = g.a.mistakes[mistake]
    env = g.namespace(m.old, m.new)
    case = next(c for c in g.cases if c.id == "q2.backward")
    entry = next(e for e in g.manifest["cases"] if e["id"] == case.id)
    outcome = case.check(case, run_case(entry, g.arrays, env, REF), REF)
    assert not outcome.passed and "first wrong at t = " in outcome.message
    assert words in outcome.message, outcome.message


def test_a_backward_over_its_budget_fails_whatever_it_returns():
    g = graded("a1")
    case = next(c for c in g.cases if c.id == "q2.backward_large")
    entry = next(e for e in g.manifest["cases"] if e["id"] == case.id)
    outputs = run_case(entry, g.arrays, g.namespace(), REF)
    assert float(outputs["seconds"]) < case.extra["budget_s"] / 10, "the analytic backward must be far inside"
    assert case.check(case, outputs, REF).passed
    outputs["seconds"] = np.array(case.extra["budget_s"] + 1.0)
    outcome = case.check(case, outputs, REF)
    assert not outcome.passed and "finite differences" in outcome.message


@pytest.mark.slow
def test_finite_differences_of_the_students_forward_do_not_earn_the_large_case():
    g = graded("a1")
    env = g.namespace()
    forward = env["rnn_forward"]

    def rnn_backward(dh, cache):  # what a student who does not derive BPTT might hand in
        x = np.stack([c[0] for c in cache], axis=1)
        h0, W_ih, W_hh = cache[0][1], cache[0][2], cache[0][3]
        b = np.zeros(W_hh.shape[0])
        return (numerical_gradient(lambda: forward(x, h0, W_ih, W_hh, b, b)[0], x, dh),)

    env["rnn_backward"] = rnn_backward
    case = next(c for c in g.cases if c.id == "q2.backward_large")
    entry = next(e for e in g.manifest["cases"] if e["id"] == case.id)
    outcome = case.check(case, run_case(entry, g.arrays, env, REF), REF)
    assert not outcome.passed and "over its budget" in outcome.message


def test_capture_round_trip_refuses_pickles(tmp_path):
    out = {}
    flatten((np.ones(3), {"a": np.zeros(2)}, [1.0, 2.0], object()), "out", out)
    assert set(out) == {"out.0", "out.1.a", "out.2", "out.3.type"}
    path = tmp_path / "q.npz"
    path.write_bytes(outputs_to_bytes({"c1/out": np.ones(2)}))
    assert np.array_equal(read_outputs(path)["c1"]["out"], np.ones(2))
    np.savez(path, **{"c1/out": np.array([object()], dtype=object)})
    assert "error" in read_outputs(path)["c1"]
    path.write_bytes(b"not a zip")
    assert "__file__" in read_outputs(path)
