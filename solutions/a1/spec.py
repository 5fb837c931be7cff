"""Assignment 1, everything the instructor writes besides the notebook: questions and points, hidden
cases and their verdicts, the students' self-checks, and the example mistakes.

The course's weight layout (torch's, as lectures 01-03 and ``utils.rnn``): ``W_ih`` (H, D), ``W_hh``
(H, H), two biases, ``x @ W_ih.T``; the loss is the mean over scored positions (``utils.charlm``).
Points: q1 3, q2 4, q3 2, q4 3, q5 2, q6 2, q7 3; total 19. Every returned gradient is compared with
central differences of the reference forward pass (or, for the case too large for differencing, with
the reference backward), in the clean grading process.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from autograder.checks import Z, expect
from autograder.compare import first_wrong_step, numerical_gradient, problem, rel_error
from autograder.spec import Case, Config, FromReference, Global, Mistake, Outcome, Rng
from autograder.verdicts import (TOL, TOL32, build_args, check_against_reference_backward, check_gradients,
                                 check_values, error, memo, verdict)

QUESTIONS = {"q1": 3.0, "q2": 4.0, "q3": 2.0, "q4": 3.0, "q5": 2.0, "q6": 2.0, "q7": 3.0}
# The course package and torch implement most questions: a graded function that calls its own
# implementation there earns nothing for it (autograder.forbidden; the notebook says so).
FORBIDDEN = {
    "q1": ("utils.rnn.rnn_step_forward", "utils.rnn.rnn_step_backward", "utils.layers", "torch.nn.RNNCell",
           "torch.rnn_tanh_cell"),
    "q2": ("utils.rnn.rnn_forward", "utils.rnn.rnn_backward", "utils.rnn.rnn_step_forward",
           "utils.rnn.rnn_step_backward", "utils.layers", "torch.nn.RNN", "torch.rnn_tanh"),
    "q3": ("torch.nn.Embedding", "torch.nn.functional.embedding", "torch.embedding"),
    "q4": ("utils.charlm.temporal_softmax_loss", "utils.charlm.softmax", "torch.nn.functional.cross_entropy",
           "torch.nn.CrossEntropyLoss", "torch.nn.functional.log_softmax"),
    "q5": ("utils.clip", "torch.nn.utils.clip_grad_norm_", "torch.nn.utils.clip_grad.clip_grad_norm_"),
    "q6": ("utils.charlm.softmax", "utils.charlm.sample", "torch.softmax", "torch.nn.functional.softmax"),
    "q7": ("utils.charlm.train_lm", "utils.train", "torch.optim.Adagrad"),
}
LOSS_TARGET = 1.0  # nats per character of evaluate_loss (stated in the notebook)
BACKWARD_BUDGET_S = 5.0  # the large BPTT case: the analytic backward takes ~10 ms, differencing minutes
STEP_GRADS = ("dx", "dprev_h", "dW_ih", "dW_hh", "db_ih", "db_hh")
SEQ_GRADS = ("dx", "dh0", "dW_ih", "dW_hh", "db_ih", "db_hh")
PARAMS = ("W_embed", "W_ih", "W_hh", "b_ih", "b_hh", "W_out", "b_out")


def _rng(seed):
    return np.random.default_rng(seed)


def _randn(rng, *shape, scale=1.0, dtype=np.float64):
    return (rng.standard_normal(shape) * scale).astype(dtype)


# ---------------------------------------------------------------- hidden cases: verdicts

def check_bptt(case: Case, outputs: dict, ref) -> Outcome:
    """Every gradient against central differences; when dx is wrong, say which path into the first wrong
    step is missing (the upstream dh[:, t], or what flows back from step t+1), by comparing with the
    reference BPTT that drops each one."""
    outcome = check_gradients(case, outputs, ref, out_name="h", grad_names=SEQ_GRADS, wrt=(0, 1, 2, 3, 4, 5))
    got = outputs.get("grad.0")
    if outcome.passed or got is None or "dx" not in outcome.message:
        return outcome
    x, h0, W_ih, W_hh, b_ih, b_hh = build_args(case, ref)
    dh = np.asarray(case.dout, dtype=np.float64)
    _, caches = ref.rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh)

    def bptt(upstream: bool, carry: bool):
        T = dh.shape[1]
        dx, dprev = np.zeros_like(x), np.zeros_like(h0)
        for t in reversed(range(T)):
            into = (dh[:, t] if upstream or t == T - 1 else 0.0) + (dprev if carry else 0.0)
            dx[:, t], dprev, *_ = ref.rnn_step_backward(into, caches[t])
        return dx

    expected = memo(case, "grad.0", lambda: numerical_gradient(lambda: ref.rnn_forward(*build_args(case, ref))[0],
                                                              build_args(case, ref)[0], dh))
    t = first_wrong_step(got, expected, 1e-5)
    where = "" if t is None else f" (walking back from t = T-1 = {dh.shape[1] - 1}, dx is first wrong at t = {t})"
    if rel_error(got, bptt(upstream=True, carry=False)) < 1e-6:
        hint = (f"{where}: your dx is what a backward gets when nothing flows back from step t+1: "
                f"add dprev_h from step t+1 to dh[:, t]")
    elif rel_error(got, bptt(upstream=False, carry=True)) < 1e-6:
        hint = (f"{where}: your dx is what a backward gets when the upstream dh[:, t] is used only at the last step: "
                f"add dh[:, t] at every step")
    elif t is not None:
        hint = f"{where}: both dh[:, {t}] and what flows back from step {t + 1} must reach step {t}"
    else:
        hint = ""
    return Outcome(False, outcome.message + hint)


def check_loss(case: Case, outputs: dict, ref, numerical: bool) -> Outcome:
    """temporal_softmax_loss: the loss value, and dx against central differences (or the reference)."""
    if (bad := error(outputs)) is not None:
        return bad

    def expected():
        x, y, mask = build_args(case, ref)
        loss, dx = ref.temporal_softmax_loss(x, y, mask)
        if numerical:
            dx = numerical_gradient(lambda: np.array(ref.temporal_softmax_loss(x, y, mask)[0]), x, np.array(1.0))
        return loss, dx

    loss, dx = memo(case, "loss", expected)
    return verdict([problem("loss", outputs.get("out.0"), loss, TOL), problem("dx", outputs.get("out.1"), dx, 1e-5)])


def check_clip(case: Case, outputs: dict, ref) -> Outcome:
    if (bad := error(outputs)) is not None:
        return bad
    clipped, total = memo(case, "clip", lambda: ref.clip_grad_norm(*build_args(case, ref)))
    tol = TOL32 if any(v.dtype == np.float32 for v in case.args[0].values()) else TOL
    problems = [problem("total_norm", outputs.get("out.1"), total, TOL)]
    for name, value in clipped.items():
        problems.append(problem(f"clipped['{name}']", outputs.get(f"out.0.{name}"), value, tol))
    return verdict(problems)


def check_sample(case: Case, outputs: dict, ref) -> Outcome:
    if (bad := error(outputs)) is not None:
        return bad
    expected = memo(case, "sample", lambda: ref.sample(*build_args(case, ref)))
    got = outputs.get("out")
    if got is None or np.asarray(got).shape != expected.shape or not np.array_equal(got, expected):
        return Outcome(False, "the sampled characters differ from the reference with the same rng "
                              "(temperature, probabilities, or not exactly one rng.choice(V, p=p) per step?)")
    return Outcome(True, "correct")


def _params(outputs: dict, ref, vocab_size: int):
    """The captured parameter dict, checked against init_params' keys and shapes; (params, problem)."""
    shapes = {k: v.shape for k, v in ref.init_params(vocab_size, ref.TrainConfig(), _rng(0)).items()}
    params = {}
    for name, shape in shapes.items():
        value = outputs.get(f"out.0.{name}")
        if value is None or value.shape != shape or value.dtype.kind != "f":
            return None, f"params['{name}'] is missing or has the wrong shape (expected {shape})"
        params[name] = value.astype(np.float64)
    if not all(np.all(np.isfinite(p)) for p in params.values()):
        return None, "the trained parameters contain inf or nan"
    return params, None


def check_adagrad(case: Case, outputs: dict, ref) -> Outcome:
    """A few steps from the same seed: the parameters and the loss history must be Adagrad's."""
    if (bad := error(outputs)) is not None:
        return bad
    ids, vocab_size, _ = build_args(case, ref)
    params, bad = _params(outputs, ref, vocab_size)
    if bad:
        return Outcome(False, bad)
    want_params, want_losses = memo(case, "train", lambda: ref.train_char_lm(*build_args(case, ref)))
    steps = len(want_losses)
    losses = outputs.get("out.1")
    if losses is None or np.asarray(losses).shape != (steps,):
        return Outcome(False, f"losses must be a list of {steps} numbers, one per step (got "
                              f"{'nothing' if losses is None else np.asarray(losses).shape})")
    if rel_error(losses, want_losses) > 1e-6:
        return Outcome(False, "the loss history is not the loss of each step, in order (record the loss the step "
                              "computed, before the update)")
    wrong = [name for name in PARAMS if rel_error(params[name], want_params[name]) > 1e-6]
    if wrong:
        return Outcome(False, f"after {steps} steps {', '.join(wrong)} differ from Adagrad's: G += g**2, then "
                              f"theta -= learning_rate * g / sqrt(G + 1e-8), on the clipped gradients")
    return Outcome(True, "correct")


def check_training(case: Case, outputs: dict, ref) -> Outcome:
    if (bad := error(outputs)) is not None:
        return bad
    ids, vocab_size, _ = build_args(case, ref)
    params, bad = _params(outputs, ref, vocab_size)
    if bad:
        return Outcome(False, bad)
    loss = ref.evaluate_loss(params, ids)
    target = case.extra["target"]
    if loss < target:
        return Outcome(True, f"evaluate_loss {loss:.3f} < {target}")
    return Outcome(False, f"evaluate_loss of the trained parameters is {loss:.3f}, not below the target {target}")


# ---------------------------------------------------------------- hidden cases

def hidden_cases(ref) -> list[Case]:
    """All hidden cases of assignment 1 (deterministic: fixed seeds)."""
    cases: list[Case] = []

    def step(r, N, D, H, scale=1.0, dtype=np.float64):
        return [_randn(r, N, D, scale=scale, dtype=dtype), _randn(r, N, H, scale=scale, dtype=dtype),
                _randn(r, H, D, dtype=dtype), _randn(r, H, H, dtype=dtype), _randn(r, H, dtype=dtype),
                _randn(r, H, dtype=dtype)]

    # q1: one step. Shapes the public tests do not use (D != H, so a transposed weight cannot fit); N = 1;
    # float32; large pre-activations.
    cases.append(Case("q1.forward", "q1", 0.5, "next_h for N=3, D=4, H=5", "rnn_step_forward", step(_rng(101), 3, 4, 5),
                      partial(check_values, names=("next_h",)), keep=(0,)))
    cases.append(Case("q1.forward_float32", "q1", 0.5, "next_h for N=1 with float32 inputs", "rnn_step_forward",
                      step(_rng(102), 1, 3, 2, dtype=np.float32), partial(check_values, names=("next_h",), tol=TOL32),
                      keep=(0,)))
    r = _rng(103)
    args = [_randn(r, 4, 3), _randn(r, 4, 6), _randn(r, 6, 3, scale=0.5), _randn(r, 6, 6, scale=0.5), _randn(r, 6),
            _randn(r, 6)]
    cases.append(Case("q1.backward", "q1", 1.0, "every gradient for N=4, D=3, H=6", "rnn_step_forward", args,
                      partial(check_gradients, out_name="next_h", grad_names=STEP_GRADS, wrt=(0, 1, 2, 3, 4, 5)),
                      call="fwd_bwd", bwd="rnn_step_backward", dout=_randn(r, 4, 6)))
    r = _rng(104)
    cases.append(Case("q1.backward_n1_saturated", "q1", 1.0, "every gradient for N=1 with large pre-activations",
                      "rnn_step_forward", step(r, 1, 2, 3, scale=2.0),
                      # saturated: finite differences lose digits here, the reference backward (itself
                      # checked against them on moderate inputs, tests/test_a1_reference.py) does not
                      partial(check_against_reference_backward, out_name="next_h", grad_names=STEP_GRADS),
                      call="fwd_bwd", bwd="rnn_step_backward", dout=_randn(r, 1, 3)))

    # q2: sequences, with the step functions replaced by the reference (graded independently of q1).
    steps = ("rnn_step_forward", "rnn_step_backward")

    def seq(seed, N, T, D, H, scale=0.5):
        r = _rng(seed)
        return r, [_randn(r, N, T, D), _randn(r, N, H), _randn(r, H, D, scale=scale), _randn(r, H, H, scale=scale),
                   _randn(r, H, scale=0.1), _randn(r, H, scale=0.1)]

    r, args = seq(201, 2, 5, 3, 4)
    cases.append(Case("q2.forward", "q2", 1.0, "h for N=2, T=5, D=3, H=4", "rnn_forward", args,
                      partial(check_values, names=("h",)), keep=(0,), patch=steps))
    r, args = seq(202, 1, 1, 2, 3)
    cases.append(Case("q2.forward_t1_n1", "q2", 0.5, "h for a single time step and a batch of one (T=1, N=1)",
                      "rnn_forward", args, partial(check_values, names=("h",)), keep=(0,), patch=steps))
    r, args = seq(203, 3, 6, 2, 4)
    cases.append(Case("q2.backward", "q2", 1.0, "every gradient for N=3, T=6, D=2, H=4", "rnn_forward", args,
                      check_bptt, call="fwd_bwd", bwd="rnn_backward", dout=_randn(r, 3, 6, 4), patch=steps))
    r, args = seq(204, 2, 1, 3, 2)
    cases.append(Case("q2.backward_t1", "q2", 0.5, "every gradient for a single time step (T=1)", "rnn_forward",
                      args, check_bptt, call="fwd_bwd", bwd="rnn_backward", dout=_randn(r, 2, 1, 2), patch=steps))
    r, args = seq(205, 2, 4, 2, 3, scale=0.8)
    dh_last = np.zeros((2, 4, 3))
    dh_last[:, -1] = _randn(r, 2, 3)
    cases.append(Case("q2.backward_last_step_only", "q2", 0.5,
                      "every gradient when only the last hidden state receives a gradient", "rnn_forward", args,
                      check_bptt, call="fwd_bwd", bwd="rnn_backward", dout=dh_last, patch=steps))
    r, args = seq(206, 8, 60, 30, 40, scale=0.2)
    cases.append(Case("q2.backward_large", "q2", 0.5,
                      f"every gradient for N=8, T=60, D=30, H=40, within {BACKWARD_BUDGET_S:g} s", "rnn_forward",
                      args, partial(check_against_reference_backward, out_name="h", grad_names=SEQ_GRADS),
                      call="fwd_bwd", bwd="rnn_backward", dout=_randn(r, 8, 60, 40), patch=steps,
                      extra={"budget_s": BACKWARD_BUDGET_S}))

    # q3: embeddings; repeated indices must accumulate.
    r = _rng(301)
    cases.append(Case("q3.forward", "q3", 0.5, "out for N=2, T=4, V=7, D=3", "embedding_forward",
                      [r.integers(0, 7, size=(2, 4)), _randn(r, 7, 3)], partial(check_values, names=("out",)),
                      keep=(0,)))
    r = _rng(302)
    x_rep = np.array([[1, 1, 4, 1, 0], [4, 4, 2, 1, 1]])
    cases.append(Case("q3.backward_repeats", "q3", 1.0, "dW when the same index occurs many times",
                      "embedding_forward", [x_rep, _randn(r, 6, 3)],
                      partial(check_gradients, out_name="out", grad_names=("dW",), wrt=(1,)),
                      call="fwd_bwd", bwd="embedding_backward", dout=_randn(r, 2, 5, 3)))
    r = _rng(303)
    cases.append(Case("q3.backward_n1_t1_float32", "q3", 0.5, "dW for N=1, T=1 with a float32 matrix",
                      "embedding_forward", [np.array([[2]]), _randn(r, 4, 2, dtype=np.float32)],
                      partial(check_gradients, out_name="out", grad_names=("dW",), wrt=(1,), tol=TOL32),
                      call="fwd_bwd", bwd="embedding_backward", dout=_randn(r, 1, 1, 2)))

    # q4: masked temporal softmax, the mean over scored positions.
    r = _rng(401)
    mask = r.random((3, 4)) > 0.3
    cases.append(Case("q4.basic", "q4", 1.0, "loss and dx for N=3, T=4, V=5 with a random mask",
                      "temporal_softmax_loss", [_randn(r, 3, 4, 5), r.integers(0, 5, (3, 4)), mask],
                      partial(check_loss, numerical=True)))
    r = _rng(402)
    mask = np.ones((3, 3), dtype=bool)
    mask[1] = False
    cases.append(Case("q4.masked_row", "q4", 0.5, "loss and dx when one sequence is entirely masked",
                      "temporal_softmax_loss", [_randn(r, 3, 3, 4), r.integers(0, 4, (3, 3)), mask],
                      partial(check_loss, numerical=True)))
    r = _rng(403)
    cases.append(Case("q4.large_scores", "q4", 1.0, "loss and dx with scores of size about 1000",
                      "temporal_softmax_loss",
                      [_randn(r, 2, 3, 6, scale=1000.0), r.integers(0, 6, (2, 3)), np.ones((2, 3), dtype=bool)],
                      partial(check_loss, numerical=False)))
    r = _rng(404)
    cases.append(Case("q4.t1_n1_float32", "q4", 0.5, "loss and dx for T=1, N=1 with float32 scores",
                      "temporal_softmax_loss",
                      [_randn(r, 1, 1, 3, dtype=np.float32), np.array([[2]]), np.array([[True]])],
                      partial(check_loss, numerical=False)))

    # q5: global-norm clipping.
    r = _rng(501)
    cases.append(Case("q5.clipped", "q5", 0.5, "clipping three gradients whose global norm exceeds max_norm",
                      "clip_grad_norm", [{"W": _randn(r, 3, 4), "b": _randn(r, 4), "U": _randn(r, 2, 2, 2)}, 1.5],
                      check_clip))
    r = _rng(504)
    cases.append(Case("q5.tiny_norm", "q5", 0.5, "gradients with a global norm of about 0.002, clipped to 0.001 "
                                                  "(where the 1e-6 of the rule matters)",
                      "clip_grad_norm", [{"W": _randn(r, 2, 3, scale=1e-3), "b": _randn(r, 3, scale=1e-3)}, 1e-3],
                      check_clip))
    r = _rng(502)
    cases.append(Case("q5.not_clipped", "q5", 0.5, "gradients whose global norm is below max_norm",
                      "clip_grad_norm", [{"W": _randn(r, 2, 2, scale=0.1), "b": _randn(r, 2, scale=0.1)}, 10.0],
                      check_clip))
    r = _rng(503)
    cases.append(Case("q5.float32_single", "q5", 0.5, "a single float32 gradient just above max_norm",
                      "clip_grad_norm", [{"g": _randn(r, 5, dtype=np.float32)}, 0.9], check_clip))

    # q6: temperature and sampling (the recurrent step is the reference's).
    r = _rng(601)
    cases.append(Case("q6.probs_cold", "q6", 0.5, "probabilities at temperature 0.1 with large scores",
                      "temperature_softmax", [_randn(r, 3, 7, scale=300.0), 0.1],
                      partial(check_values, names=("probs",))))
    r = _rng(602)
    cases.append(Case("q6.probs_hot", "q6", 0.5, "probabilities at temperature 2.5", "temperature_softmax",
                      [_randn(r, 2, 5, scale=3.0), 2.5], partial(check_values, names=("probs",))))
    r = _rng(603)
    V, D, H = 6, 3, 5
    params = {"W_embed": _randn(r, V, D), "W_ih": _randn(r, H, D), "W_hh": _randn(r, H, H, scale=0.5),
              "b_ih": _randn(r, H, scale=0.1), "b_hh": _randn(r, H, scale=0.1), "W_out": _randn(r, V, H),
              "b_out": _randn(r, V, scale=0.1)}
    cases.append(Case("q6.sample", "q6", 1.0, "40 characters at temperature 0.8 from a fixed rng", "sample",
                      [params, 2, 40, 0.8, Rng(7)], check_sample, patch=("rnn_step_forward",)))

    # q7: the student's loop with every building block the reference's: a few steps must be Adagrad's
    # exactly (parameters and loss history), and the default run must reach the stated target.
    blocks = ("rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward", "embedding_forward",
              "embedding_backward", "temporal_softmax_loss", "clip_grad_norm")
    cases.append(Case("q7.adagrad", "q7", 1.5, "5 training steps: the parameters and the loss of each step",
                      "train_char_lm", [Global("CORPUS_IDS"), len(ref.CHARS), Config("TrainConfig", {"steps": 5})],
                      check_adagrad, patch=blocks))
    cases.append(Case("q7.train", "q7", 1.5, "training with the default TrainConfig, then evaluate_loss",
                      "train_char_lm", [Global("CORPUS_IDS"), len(ref.CHARS), Config("TrainConfig", {})],
                      check_training, patch=blocks, extra={"target": LOSS_TARGET}))
    return cases


# ---------------------------------------------------------------- self-checks (public, student side)
# Frozen np.linspace inputs, no RNG. Each check isolates one term (every other input zero), so that a
# failure names the faulty term; a question's checks stop at the first failure. The backward checks
# use a cache made by the reference forward (FromReference), so that a forward bug is not reported as
# a backward one. D != H everywhere, so that a transposed weight cannot fit silently.

X1 = np.linspace(-0.4, 0.5, num=6).reshape(2, 3)  # (N=2, D=3)
H1 = np.linspace(-0.3, 0.3, num=8).reshape(2, 4)  # (N=2, H=4)
W_IH1 = np.linspace(-0.2, 0.4, num=12).reshape(4, 3)  # (H, D): torch's layout
W_HH1 = np.linspace(-0.3, 0.2, num=16).reshape(4, 4)  # (H, H)
B_IH1 = np.linspace(-0.1, 0.1, num=4)  # (H,)
B_HH1 = np.linspace(0.05, -0.15, num=4)  # (H,)
DNEXT1 = np.linspace(-0.5, 0.6, num=8).reshape(2, 4)  # (N, H)
CACHE1 = FromReference(lambda ref: ref.rnn_step_forward(X1, H1, W_IH1, W_HH1, B_IH1, B_HH1)[1])
LAYOUT = "W_ih is (H, D) = (4, 3) in the course's (torch's) layout, so the input term is x @ W_ih.T"


def forward_layout(rnn_step_forward):
    try:
        next_h, _ = rnn_step_forward(X1, H1, W_IH1, W_HH1, B_IH1, B_HH1)
    except ValueError as exc:
        raise AssertionError(f"the shapes do not fit ({exc}): {LAYOUT}") from None
    assert np.shape(next_h) == (2, 4), f"next_h should have shape (N, H) = (2, 4), got {np.shape(next_h)}: {LAYOUT}"


def forward_only_x(rnn_step_forward):
    next_h, _ = rnn_step_forward(X1, Z((2, 4)), W_IH1, Z((4, 4)), Z(4), Z(4))
    expect(next_h, "with prev_h = 0 and both biases 0, next_h is wrong: check the x_t W_ih^T term and the tanh")


def forward_only_prev_h(rnn_step_forward):
    next_h, _ = rnn_step_forward(Z((2, 3)), H1, Z((4, 3)), W_HH1, Z(4), Z(4))
    expect(next_h, "with x = 0 and both biases 0, next_h is wrong: check the h_{t-1} W_hh^T term (prev_h @ W_hh.T)")


def forward_only_biases(rnn_step_forward):
    next_h, _ = rnn_step_forward(Z((2, 3)), Z((2, 4)), W_IH1, W_HH1, B_IH1, B_HH1)
    expect(next_h, "with x = 0 and prev_h = 0, next_h is wrong: add both biases, b_ih and b_hh, inside the tanh")


def forward_all(rnn_step_forward):
    next_h, _ = rnn_step_forward(X1, H1, W_IH1, W_HH1, B_IH1, B_HH1)
    expect(next_h, "each term is right alone but not together: add the four terms inside one tanh")


def backward_tanh_derivative(rnn_step_backward):
    grads = rnn_step_backward(DNEXT1, CACHE1)
    assert len(grads) == 6, "return (dx, dprev_h, dW_ih, dW_hh, db_ih, db_hh), in the order of the forward's inputs"
    expect(grads[4], "db_ih is wrong: did you multiply dnext_h by the derivative of tanh, 1 - next_h**2 "
                     "(next_h is in the cache)?")


def backward_each_gradient(rnn_step_backward):
    dx, dprev_h, dW_ih, dW_hh, db_ih, db_hh = rnn_step_backward(DNEXT1, CACHE1)
    expect(dx, "dx is wrong: with a = x @ W_ih.T + ..., dx = da @ W_ih (shape (N, D))")
    expect(dprev_h, "dprev_h is wrong: with a = ... + prev_h @ W_hh.T, dprev_h = da @ W_hh, not da @ W_hh.T")
    expect(dW_ih, "dW_ih is wrong: it keeps W_ih's (H, D) layout, da.T @ x")
    expect(dW_hh, "dW_hh is wrong: it keeps W_hh's layout (row = the unit it feeds), da.T @ prev_h, "
                  "not its transpose prev_h.T @ da")
    expect(db_ih, "db_ih is wrong: sum da over the batch")
    expect(db_hh, "db_hh is wrong: b_hh enters like b_ih, so db_hh is the same sum")


X2 = np.linspace(-0.5, 0.5, num=2 * 3 * 2).reshape(2, 3, 2)  # (N=2, T=3, D=2)
H02 = np.linspace(-0.2, 0.3, num=6).reshape(2, 3)  # (N, H=3)
W_IH2 = np.linspace(-0.4, 0.6, num=6).reshape(3, 2)  # (H, D)
W_HH2 = np.linspace(-0.5, 0.4, num=9).reshape(3, 3)  # (H, H)
B_IH2 = np.linspace(-0.1, 0.2, num=3)  # (H,)
B_HH2 = np.linspace(0.1, 0.0, num=3)  # (H,)
DH2 = np.linspace(-0.3, 0.4, num=18).reshape(2, 3, 3)  # (N, T, H)
DH2_LAST = np.zeros((2, 3, 3))
DH2_LAST[:, -1] = 1.0  # only the last hidden state receives a gradient
DH2_FIRST = np.zeros((2, 3, 3))
DH2_FIRST[:, 0] = 1.0  # only the first hidden state receives a gradient
CACHE2 = FromReference(lambda ref: ref.rnn_forward(X2, H02, W_IH2, W_HH2, B_IH2, B_HH2)[1])


def forward_shape_and_first_step(rnn_forward):
    h, cache = rnn_forward(X2, H02, W_IH2, W_HH2, B_IH2, B_HH2)
    assert np.shape(h) == (2, 3, 3), f"h should have shape (N, T, H) = (2, 3, 3), got {np.shape(h)}"
    assert len(cache) == 3, "the cache of rnn_forward must be the list of the T step caches"
    expect(h[:, 0], "h[:, 0] is wrong: the first step must start from h0 and read x[:, 0]")


def forward_all_steps(rnn_forward):
    h, _ = rnn_forward(X2, H02, W_IH2, W_HH2, B_IH2, B_HH2)
    expect(h, "h is right at t = 0 but not later: each step must start from the previous step's h")


def backward_upstream_every_step(rnn_backward):
    dx, *_ = rnn_backward(DH2_FIRST, CACHE2)
    expect(dx[:, 0], "only h at t = 0 receives a gradient, and dx[:, 0] is wrong: add the upstream dh[:, t] "
                     "at every step, not only the last")


def backward_reaches_h0(rnn_backward):
    dx, dh0, *_ = rnn_backward(DH2_LAST, CACHE2)
    expect(dh0, "only h at t = T-1 receives a gradient, and it must flow back through every step "
                "to h0: is dprev_h carried from step t to step t-1, down to t = 0?")
    expect(dx, "dx is wrong when only the last step receives a gradient: check the loop over t")


def backward_weights_summed(rnn_backward):
    dx, dh0, dW_ih, dW_hh, db_ih, db_hh = rnn_backward(DH2, CACHE2)
    # dx and dh0 first: when they are wrong, the weight gradients are wrong as a consequence
    expect(dx, "dx is wrong: at step t the upstream gradient is dh[:, t] plus what flows back from t+1")
    expect(dh0, "dh0 is wrong: it is the gradient flowing out of step 0")
    expect(db_ih, "db_ih is wrong: the weights are shared, so their gradients are summed over all time steps")
    expect(dW_ih, "dW_ih is wrong: sum the contributions of every time step")
    expect(dW_hh, "dW_hh is wrong: sum the contributions of every time step")
    expect(db_hh, "db_hh is wrong: sum the contributions of every time step")


IDX3 = np.array([[0, 3, 1], [3, 3, 2]])  # (N=2, T=3); index 3 occurs three times
W3 = np.linspace(-1.0, 1.0, num=5 * 2).reshape(5, 2)  # (V=5, D=2)
DOUT3 = np.linspace(0.1, 1.2, num=12).reshape(2, 3, 2)  # (N, T, D)
CACHE3 = FromReference(lambda ref: ref.embedding_forward(IDX3, W3)[1])


def forward_lookup(embedding_forward):
    out, _ = embedding_forward(IDX3, W3)
    assert np.shape(out) == (2, 3, 2), f"out should have shape (N, T, D) = (2, 3, 2), got {np.shape(out)}"
    expect(out, "out[n, t] must be the row W[x[n, t]]")


def backward_accumulates(embedding_backward):
    dW = embedding_backward(DOUT3, CACHE3)
    assert np.shape(dW) == (5, 2), f"dW should have the shape of W, (5, 2), got {np.shape(dW)}"
    assert np.allclose(dW[4], 0.0), "row 4 of W is never used, so dW[4] must be 0"
    expect(dW, "dW is wrong: index 3 occurs three times, so dW[3] must be the sum of three upstream "
               "gradients (dW[x] += dout keeps only one of them; np.add.at accumulates)")


SCORES4 = np.linspace(-1.0, 1.5, num=2 * 3 * 4).reshape(2, 3, 4)  # (N=2, T=3, V=4)
Y4 = np.array([[0, 3, 1], [2, 2, 0]])  # (N, T)
MASK4 = np.array([[True, True, False], [True, False, True]])  # (N, T): 4 scored positions
ALL4 = np.ones((2, 3), dtype=bool)
NONE4 = np.zeros((2, 3), dtype=bool)


def loss_without_mask(temporal_softmax_loss):
    loss, dx = temporal_softmax_loss(SCORES4, Y4, ALL4)
    expect(loss, "with every position unmasked the loss is wrong: the mean over the N*T positions of -log p[y]")
    expect(dx, "dx is wrong: softmax(x) minus one-hot(y), divided by the number of scored positions")


def loss_with_mask(temporal_softmax_loss):
    loss, dx = temporal_softmax_loss(SCORES4, Y4, MASK4)
    assert np.allclose(dx[0, 2], 0.0) and np.allclose(dx[1, 1], 0.0), "masked positions must have dx = 0"
    expect(loss, "the loss must ignore masked positions and average over the scored ones only")
    expect(dx, "dx is wrong at the unmasked positions (divide by the number of scored positions)")


def loss_nothing_scored(temporal_softmax_loss):
    loss, dx = temporal_softmax_loss(SCORES4, Y4, NONE4)
    assert np.isfinite(loss) and abs(loss) < 1e-12 and np.allclose(dx, 0.0), (
        "with every position masked the loss must be 0 and dx zero: divide by max(M, 1)")


def stable_for_large_scores(temporal_softmax_loss):
    loss, dx = temporal_softmax_loss(1000.0 * SCORES4, Y4, ALL4)
    assert np.isfinite(loss) and np.all(np.isfinite(dx)), (
        "scores of size 1000 give inf/nan: subtract each row's maximum before exponentiating")


GRADS5 = {"a": np.array([3.0]), "b": np.array([[4.0]])}  # global norm sqrt(3^2 + 4^2) = 5
SMALL5 = {"a": np.array([0.03]), "b": np.array([[0.04]])}


def total_norm_is_global(clip_grad_norm):
    _, total_norm = clip_grad_norm({k: v.copy() for k, v in GRADS5.items()}, 1.0)
    assert np.isclose(total_norm, 5.0), (f"for gradients [3] and [[4]] the global norm is 5, got {total_norm}: "
                                         "it is the square root of the sum of squares over all arrays")


def clipped_to_max_norm(clip_grad_norm):
    clipped, _ = clip_grad_norm({k: v.copy() for k, v in GRADS5.items()}, 1.0)
    assert set(clipped) == {"a", "b"}, "return a dict with the same keys as grads"
    new_norm = np.sqrt(sum(np.sum(np.asarray(g) ** 2) for g in clipped.values()))
    assert abs(new_norm - 1.0) < 1e-5, f"after clipping to max_norm = 1 the global norm should be 1, got {new_norm}"
    expect(clipped["a"], "every array must be scaled by the same factor, max_norm / (total_norm + 1e-6)")


def small_gradients_untouched(clip_grad_norm):
    clipped, total_norm = clip_grad_norm({k: v.copy() for k, v in SMALL5.items()}, 1.0)
    assert np.allclose(clipped["a"], SMALL5["a"]) and np.allclose(clipped["b"], SMALL5["b"]), (
        "gradients whose norm is below max_norm must not change (the factor is at most 1)")


SCORES6 = np.linspace(-1.0, 2.0, num=2 * 4).reshape(2, 4)  # (N=2, V=4)
PARAMS6 = {
    "W_embed": np.linspace(-1, 1, num=5 * 2).reshape(5, 2),  # (V=5, D=2)
    "W_ih": np.linspace(-0.5, 0.5, num=3 * 2).reshape(3, 2),  # (H=3, D)
    "W_hh": np.linspace(-0.3, 0.3, num=3 * 3).reshape(3, 3),
    "b_ih": np.zeros(3),
    "b_hh": np.linspace(-0.1, 0.1, num=3),
    "W_out": np.linspace(-1, 1, num=5 * 3).reshape(5, 3),  # (V, H)
    "b_out": np.linspace(-0.2, 0.2, num=5),
}


def probabilities(temperature_softmax):
    p1 = temperature_softmax(SCORES6, 1.0)
    assert np.allclose(np.sum(p1, axis=-1), 1.0), "every row of probs must sum to 1"
    expect(p1, "at temperature 1 the result must be the plain softmax of the scores")
    expect(temperature_softmax(SCORES6, 0.5),
           "at temperature 0.5 the distribution must be sharper: divide the scores by the temperature")


def probabilities_stable(temperature_softmax):
    p = temperature_softmax(500.0 * SCORES6, 0.1)
    assert np.all(np.isfinite(p)), "large scores / small temperature give inf/nan: subtract the row maximum"


def sample_reproducible(sample):
    a = sample(PARAMS6, 1, 12, 1.0, np.random.default_rng(0))
    b = sample(PARAMS6, 1, 12, 1.0, np.random.default_rng(0))
    assert np.shape(a) == (12,), f"sample should return `length` = 12 indices, got shape {np.shape(a)}"
    assert np.array_equal(a, b), "the same rng seed must give the same characters"
    expect(a, "the characters differ from the reference: embed the current character, one rnn_step_forward, "
              "score with h @ W_out.T + b_out, then exactly one rng.choice(V, p=p) per step")


STEPS7 = 60


def loss_goes_down(train_char_lm, TrainConfig, CORPUS_IDS, CHARS):
    params, losses = train_char_lm(CORPUS_IDS, len(CHARS), TrainConfig(steps=STEPS7))
    assert len(losses) == STEPS7, f"losses should have one entry per step ({STEPS7}), got {len(losses)}"
    assert set(params) == {"W_embed", "W_ih", "W_hh", "b_ih", "b_hh", "W_out", "b_out"}, (
        "return every parameter of init_params")
    first, last = float(np.mean(losses[:10])), float(np.mean(losses[-10:]))
    assert np.isfinite(last), "the loss became inf/nan: check the update and the clipping"
    assert last < first - 0.5, (f"after {STEPS7} steps the per-character loss went from {first:.2f} to {last:.2f}: "
                                "it should drop clearly (sign of the update? learning rate?)")


def adagrad_first_steps(train_char_lm, TrainConfig, CORPUS_IDS, CHARS):
    params, losses = train_char_lm(CORPUS_IDS, len(CHARS), TrainConfig(steps=3))
    expect(np.asarray(losses, dtype=float), "the losses of the first 3 steps differ from those of Adagrad's update: "
                                            "G += g**2, then theta -= learning_rate * g / sqrt(G + 1e-8)")
    expect(params["W_hh"], "W_hh after 3 steps differs from Adagrad's update: G += g**2, then "
                           "theta -= learning_rate * g / sqrt(G + 1e-8), on the clipped gradients")


PUBLIC = {
    "q1": [forward_layout, forward_only_x, forward_only_prev_h, forward_only_biases, forward_all,
           backward_tanh_derivative, backward_each_gradient],
    "q2": [forward_shape_and_first_step, forward_all_steps, backward_reaches_h0, backward_upstream_every_step,
           backward_weights_summed],
    "q3": [forward_lookup, backward_accumulates],
    "q4": [loss_without_mask, loss_with_mask, loss_nothing_scored, stable_for_large_scores],
    "q5": [total_norm_is_global, clipped_to_max_norm, small_gradients_untouched],
    "q6": [probabilities, probabilities_stable, sample_reproducible],
    "q7": [adagrad_first_steps, loss_goes_down],
}


# ---------------------------------------------------------------- example mistakes
# Each: the reference with `old` replaced by `new` once, inside a solution region; it must lose points in
# its question only, and its question's self-check must print `says`.

MISTAKES = {
    "q1_missing_tanh_derivative": Mistake(
        "q1", "da = dnext_h * (1.0 - next_h**2)", "da = dnext_h",
        "rnn_step_backward forgets the derivative of tanh", "derivative of tanh"),
    "q1_cs231n_layout": Mistake(
        "q1", "next_h = np.tanh(x @ W_ih.T + b_ih", "next_h = np.tanh(x @ W_ih + b_ih",
        "rnn_step_forward uses CS231n's (D, H) layout for W_ih", "torch's) layout"),
    "q1_dprev_h_transposed": Mistake(
        "q1", "dprev_h = da @ W_hh  #", "dprev_h = da @ W_hh.T  #",
        "rnn_step_backward multiplies by W_hh.T instead of W_hh", "not da @ W_hh.T"),
    "q1_dW_hh_transposed": Mistake(
        "q1", "dW_hh = da.T @ prev_h", "dW_hh = prev_h.T @ da",
        "rnn_step_backward returns the transpose of dW_hh", "not its transpose"),
    "q1_one_bias": Mistake(
        "q1", "np.tanh(x @ W_ih.T + b_ih + prev_h @ W_hh.T + b_hh)", "np.tanh(x @ W_ih.T + b_ih + prev_h @ W_hh.T)",
        "rnn_step_forward forgets the second bias", "add both biases"),
    "q1_delegates_to_utils": Mistake(
        "q1", "next_h = np.tanh(x @ W_ih.T + b_ih + prev_h @ W_hh.T + b_hh)\n    cache",
        "import utils.rnn\n    next_h, _ = utils.rnn.rnn_step_forward(x, prev_h, W_ih, W_hh, b_ih, b_hh)\n    cache",
        "rnn_step_forward calls the course package's utils.rnn.rnn_step_forward", "does not allow"),
    "q2_dW_not_summed_over_time": Mistake(
        "q2", "dW_ih += dW_ih_t", "dW_ih = dW_ih_t",
        "rnn_backward keeps only the last step's contribution to dW_ih", "dW_ih is wrong"),
    "q2_dprev_h_not_propagated": Mistake(
        "q2", "rnn_step_backward(dh[:, t, :] + dprev_h, cache[t])", "rnn_step_backward(dh[:, t, :], cache[t])",
        "rnn_backward drops the gradient flowing back from step t+1", "is dprev_h carried"),
    "q2_upstream_only_at_the_end": Mistake(
        "q2", "rnn_step_backward(dh[:, t, :] + dprev_h, cache[t])",
        "rnn_step_backward((dh[:, t, :] if t == T - 1 else 0) + dprev_h, cache[t])",
        "rnn_backward uses dh[:, t] only at the last step", "at every step, not only the last"),
    "q2_off_by_one_in_time": Mistake(
        "q2", "for t in reversed(range(T)):\n        dx_t", "for t in reversed(range(1, T)):\n        dx_t",
        "rnn_backward stops before t = 0", "down to t = 0"),
    "q3_embedding_overwrites": Mistake(
        "q3", "np.add.at(dW, x, dout)", "dW[x] += dout",
        "embedding_backward overwrites repeated rows instead of accumulating", "np.add.at accumulates"),
    "q4_mask_ignored": Mistake(
        "q4", "m_flat = mask.reshape(N * T).astype(np.float64)", "m_flat = np.ones(N * T)",
        "temporal_softmax_loss ignores the mask", "masked positions"),
    "q4_summed_over_time": Mistake(
        "q4", "count = max(m_flat.sum(), 1.0)", "count = N",
        "temporal_softmax_loss sums over time (CS231n's loss) instead of averaging", "the mean over the N*T"),
    "q4_unstable_softmax": Mistake(
        "q4", "shifted = x_flat - x_flat.max(axis=1, keepdims=True)", "shifted = x_flat",
        "temporal_softmax_loss exponentiates raw scores (overflows for large scores)", "subtract each row's maximum"),
    "q5_clip_by_squared_norm": Mistake(
        "q5", "total_norm = float(np.sqrt(sum(", "total_norm = float((sum(",
        "clip_grad_norm uses the squared norm", "square root of the sum of squares"),
    "q6_temperature_multiplies": Mistake(
        "q6", "z = np.asarray(scores, dtype=np.float64) / temperature",
        "z = np.asarray(scores, dtype=np.float64) * temperature",
        "temperature_softmax multiplies by the temperature instead of dividing", "divide the scores by the temperature"),
    "q7_gradient_ascent": Mistake(
        "q7", "params[name] = params[name] - config.learning_rate", "params[name] = params[name] + config.learning_rate",
        "train_char_lm climbs the loss instead of descending it", "Adagrad's update"),
    "q7_sqrt_memory_multiplies": Mistake(
        "q7", "grads[name] / np.sqrt(memory[name] + 1e-8)", "grads[name] * np.sqrt(memory[name] + 1e-8)",
        "train_char_lm multiplies by sqrt(G) instead of dividing", "Adagrad's update"),
    "q7_plain_sgd": Mistake(
        "q7", "grads[name] / np.sqrt(memory[name] + 1e-8)", "grads[name]",
        "train_char_lm takes plain SGD steps instead of Adagrad's", "Adagrad's update"),
}
