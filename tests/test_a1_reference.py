"""Assignment 1's reference solution is right: gradients against central differences, clipping against
torch's rule, the stated loss target reached with margin, and BPTT verdicts that name the time step.
(The grading rows every assignment gets are in test_autograder_spec.py.)"""

import numpy as np

from autograder import assignments, notebooks, reference
from autograder.compare import numerical_gradient, rel_error
from autograder.kernel import flatten, run_case
from autograder.cases import outputs_to_bytes, read_outputs
from test_autograder_spec import graded

REF = reference.load("a1")
SPEC = assignments.get("a1").spec


def rnd(seed, *shape):
    return np.random.default_rng(seed).standard_normal(shape)


def test_points_total_19():
    assert sum(SPEC.QUESTIONS.values()) == 19


def test_reference_step_backward_matches_numerical_gradient():
    args = [rnd(1, 3, 4), rnd(2, 3, 5), rnd(3, 4, 5), rnd(4, 5, 5), rnd(5, 5)]
    dout = rnd(6, 3, 5)
    _, cache = REF.rnn_step_forward(*args)
    grads = REF.rnn_step_backward(dout, cache)
    for i, grad in enumerate(grads):
        expected = numerical_gradient(lambda: REF.rnn_step_forward(*args)[0], args[i], dout)
        assert rel_error(grad, expected) < 1e-7, f"gradient {i}"


def test_reference_rnn_backward_matches_numerical_gradient():
    args = [rnd(1, 2, 4, 3), rnd(2, 2, 5), rnd(3, 3, 5) * 0.5, rnd(4, 5, 5) * 0.5, rnd(5, 5)]
    dout = rnd(6, 2, 4, 5)
    _, cache = REF.rnn_forward(*args)
    grads = REF.rnn_backward(dout, cache)
    for i, grad in enumerate(grads):
        expected = numerical_gradient(lambda: REF.rnn_forward(*args)[0], args[i], dout)
        assert rel_error(grad, expected) < 1e-7, f"gradient {i}"


def test_reference_embedding_and_loss_gradients():
    x, W = np.array([[0, 2, 2], [1, 2, 0]]), rnd(1, 3, 4)
    dout = rnd(2, 2, 3, 4)
    dW = REF.embedding_backward(dout, REF.embedding_forward(x, W)[1])
    assert rel_error(dW, numerical_gradient(lambda: REF.embedding_forward(x, W)[0], W, dout)) < 1e-7
    scores, y = rnd(3, 2, 3, 5), np.array([[0, 4, 1], [2, 2, 3]])
    mask = np.array([[True, False, True], [False, False, False]])
    loss, dx = REF.temporal_softmax_loss(scores, y, mask)
    num = numerical_gradient(lambda: np.array(REF.temporal_softmax_loss(scores, y, mask)[0]), scores, np.array(1.0))
    assert rel_error(dx, num) < 1e-6
    assert np.all(dx[1] == 0), "a fully masked row has no gradient"
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


def test_reference_reaches_the_stated_loss_target():
    params, losses = REF.train_char_lm(REF.CORPUS_IDS, len(REF.CHARS), REF.TrainConfig())
    assert len(losses) == REF.TrainConfig().steps
    loss = SPEC.eval_loss(REF, params, REF.CORPUS_IDS)
    assert loss < SPEC.LOSS_TARGET * 0.5, f"reference evaluation loss {loss:.3f} leaves too little margin"
    assert "below 1.0 nat" in "".join(c.source for c in notebooks.read(assignments.get("a1").notebook).cells)


def test_bptt_verdict_names_the_first_wrong_time_step():
    g = graded("a1")
    m = g.a.mistakes["q2_dprev_h_not_propagated"]
    env = g.namespace(m.old, m.new)
    case = next(c for c in g.cases if c.id == "q2.backward")
    entry = next(e for e in g.manifest["cases"] if e["id"] == case.id)
    outcome = case.check(case, run_case(entry, g.arrays, env, REF), REF)
    assert not outcome.passed
    assert "first wrong at t = 4" in outcome.message  # T = 6: the last step is right, t = 4 is not


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
