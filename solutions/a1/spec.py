"""Assignment 1, everything the instructor writes besides the notebook: questions and points, hidden
cases and their verdicts, the students' self-checks, and the example mistakes.

Points per question: q1 3, q2 4, q3 2, q4 3, q5 2, q6 2, q7 3; total 19. Every returned gradient is
compared with central differences of the reference forward pass, in the clean grading process.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from autograder.checks import Z, expect
from autograder.spec import Case, Config, FromReference, Mistake, Outcome, Rng
from autograder.verdicts import TOL, TOL32, build_args, check_gradients, check_values, error, verdict
from autograder.compare import numerical_gradient, problem

QUESTIONS = {"q1": 3.0, "q2": 4.0, "q3": 2.0, "q4": 3.0, "q5": 2.0, "q6": 2.0, "q7": 3.0}
LOSS_TARGET = 1.0  # nats per character, on the evaluation batches (stated in the notebook)


def _rng(seed):
    return np.random.default_rng(seed)


# ---------------------------------------------------------------- hidden cases: verdicts

def check_loss(case: Case, outputs: dict, ref, numerical: bool) -> Outcome:
    """temporal_softmax_loss: the loss value, and dx against central differences (or the reference)."""
    if (bad := error(outputs)) is not None:
        return bad
    x, y, mask = build_args(case, ref)
    loss, dx = ref.temporal_softmax_loss(x, y, mask)
    if numerical:
        dx = numerical_gradient(lambda: np.array(ref.temporal_softmax_loss(x, y, mask)[0]), x, np.array(1.0))
    return verdict([problem("loss", outputs.get("out.0"), loss, TOL),
                     problem("dx", outputs.get("out.1"), dx, 1e-5)])


def check_clip(case: Case, outputs: dict, ref) -> Outcome:
    if (bad := error(outputs)) is not None:
        return bad
    grads, max_norm = build_args(case, ref)
    clipped, total = ref.clip_grad_norm(grads, max_norm)
    problems = [problem("total_norm", outputs.get("out.1"), total, TOL)]
    for name, value in clipped.items():
        problems.append(problem(f"clipped['{name}']", outputs.get(f"out.0.{name}"), value, TOL32))
    return verdict(problems)


def check_sample(case: Case, outputs: dict, ref) -> Outcome:
    if (bad := error(outputs)) is not None:
        return bad
    expected = ref.sample(*build_args(case, ref))
    got = outputs.get("out")
    if got is None or np.asarray(got).shape != expected.shape or not np.array_equal(got, expected):
        return Outcome(False, "the sampled characters differ from the reference with the same rng "
                              "(temperature, probabilities, or not exactly one rng.choice(V, p=p) per step?)")
    return Outcome(True, "correct")


def eval_loss(ref, params: dict, ids: np.ndarray, batches: int = 8, seed: int = 1234) -> float:
    """Per-character loss of ``params`` on fixed random windows of the corpus (reference forward)."""
    config = ref.TrainConfig()
    rng = np.random.default_rng(seed)
    total = 0.0
    for _ in range(batches):
        inputs, targets = ref.get_batch(ids, config, rng)
        N, T = inputs.shape
        emb, _ = ref.embedding_forward(inputs, params["W_embed"])
        h, _ = ref.rnn_forward(emb, np.zeros((N, params["Wh"].shape[0])), params["Wx"], params["Wh"], params["b"])
        scores, _ = ref.temporal_affine_forward(h, params["W_out"], params["b_out"])
        loss, _ = ref.temporal_softmax_loss(scores, targets, np.ones((N, T), dtype=bool))
        total += loss / T
    return total / batches


def check_training(case: Case, outputs: dict, ref) -> Outcome:
    if (bad := error(outputs)) is not None:
        return bad
    ids, vocab_size, _ = build_args(case, ref)
    shapes = {k: v.shape for k, v in ref.init_params(vocab_size, ref.TrainConfig(), _rng(0)).items()}
    params = {}
    for name, shape in shapes.items():
        value = outputs.get(f"out.{name}")
        if value is None or value.shape != shape or value.dtype.kind != "f":
            return Outcome(False, f"params['{name}'] is missing or has the wrong shape (expected {shape})")
        params[name] = value.astype(np.float64)
    if not all(np.all(np.isfinite(p)) for p in params.values()):
        return Outcome(False, "the trained parameters contain inf or nan")
    loss = eval_loss(ref, params, ids)
    if loss < case.extra["target"]:
        return Outcome(True, f"per-character loss {loss:.3f} < {case.extra['target']}")
    return Outcome(False, f"per-character evaluation loss {loss:.3f} is not below the target {case.extra['target']}")


def _randn(rng, *shape, scale=1.0, dtype=np.float64):
    return (rng.standard_normal(shape) * scale).astype(dtype)


def hidden_cases(ref) -> list[Case]:
    """All hidden cases of assignment 1 (deterministic: fixed seeds)."""
    cases: list[Case] = []
    step_grads = ("dx", "dprev_h", "dWx", "dWh", "db")
    seq_grads = ("dx", "dh0", "dWx", "dWh", "db")

    # q1: one step. Shapes the public tests do not use; N = 1; float32; saturated tanh.
    r = _rng(101)
    cases.append(Case("q1.forward", "q1", 0.5, "next_h for N=3, D=4, H=5", "rnn_step_forward",
                      [_randn(r, 3, 4), _randn(r, 3, 5), _randn(r, 4, 5), _randn(r, 5, 5), _randn(r, 5)],
                      partial(check_values, names=("next_h",)), keep=(0,)))
    r = _rng(102)
    cases.append(Case("q1.forward_float32", "q1", 0.5, "next_h for N=1 with float32 inputs", "rnn_step_forward",
                      [_randn(r, 1, 3, dtype=np.float32), _randn(r, 1, 2, dtype=np.float32),
                       _randn(r, 3, 2, dtype=np.float32), _randn(r, 2, 2, dtype=np.float32),
                       _randn(r, 2, dtype=np.float32)],
                      partial(check_values, names=("next_h",), tol=TOL32), keep=(0,)))
    r = _rng(103)
    cases.append(Case("q1.backward", "q1", 1.0, "every gradient for N=4, D=3, H=6", "rnn_step_forward",
                      [_randn(r, 4, 3), _randn(r, 4, 6), _randn(r, 3, 6, scale=0.5), _randn(r, 6, 6, scale=0.5),
                       _randn(r, 6)],
                      partial(check_gradients, out_name="next_h", grad_names=step_grads, wrt=(0, 1, 2, 3, 4)),
                      call="fwd_bwd", bwd="rnn_step_backward", dout=_randn(r, 4, 6)))
    r = _rng(104)
    cases.append(Case("q1.backward_n1_saturated", "q1", 1.0, "every gradient for N=1 with large pre-activations",
                      "rnn_step_forward",
                      [_randn(r, 1, 2, scale=2), _randn(r, 1, 3, scale=2), _randn(r, 2, 3), _randn(r, 3, 3),
                       _randn(r, 3)],
                      partial(check_gradients, out_name="next_h", grad_names=step_grads, wrt=(0, 1, 2, 3, 4)),
                      call="fwd_bwd", bwd="rnn_step_backward", dout=_randn(r, 1, 3)))

    # q2: sequences, with the step functions replaced by the reference (graded independently of q1).
    steps = ("rnn_step_forward", "rnn_step_backward")

    def seq(seed, N, T, D, H, scale=0.5):
        r = _rng(seed)
        args = [_randn(r, N, T, D), _randn(r, N, H), _randn(r, D, H, scale=scale), _randn(r, H, H, scale=scale),
                _randn(r, H, scale=0.1)]
        return r, args

    r, args = seq(201, 2, 5, 3, 4)
    cases.append(Case("q2.forward", "q2", 1.0, "h for N=2, T=5, D=3, H=4", "rnn_forward", args,
                      partial(check_values, names=("h",)), keep=(0,), patch=steps))
    r, args = seq(202, 1, 1, 2, 3)
    cases.append(Case("q2.forward_t1_n1", "q2", 0.5, "h for a single time step and a batch of one (T=1, N=1)",
                      "rnn_forward", args, partial(check_values, names=("h",)), keep=(0,), patch=steps))
    r, args = seq(203, 3, 6, 2, 4)
    cases.append(Case("q2.backward", "q2", 1.5, "every gradient for N=3, T=6, D=2, H=4", "rnn_forward", args,
                      partial(check_gradients, out_name="h", grad_names=seq_grads, wrt=(0, 1, 2, 3, 4),
                              localise=True),
                      call="fwd_bwd", bwd="rnn_backward", dout=_randn(r, 3, 6, 4), patch=steps))
    r, args = seq(204, 2, 1, 3, 2)
    cases.append(Case("q2.backward_t1", "q2", 0.5, "every gradient for a single time step (T=1)", "rnn_forward",
                      args, partial(check_gradients, out_name="h", grad_names=seq_grads, wrt=(0, 1, 2, 3, 4)),
                      call="fwd_bwd", bwd="rnn_backward", dout=_randn(r, 2, 1, 2), patch=steps))
    r, args = seq(205, 2, 4, 2, 3, scale=0.8)
    dh_last = np.zeros((2, 4, 3))
    dh_last[:, -1] = _randn(r, 2, 3)
    cases.append(Case("q2.backward_last_step_only", "q2", 0.5,
                      "every gradient when only the last hidden state receives a gradient", "rnn_forward", args,
                      partial(check_gradients, out_name="h", grad_names=seq_grads, wrt=(0, 1, 2, 3, 4),
                              localise=True),
                      call="fwd_bwd", bwd="rnn_backward", dout=dh_last, patch=steps))

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

    # q4: masked temporal softmax.
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
    cases.append(Case("q5.clipped", "q5", 1.0, "clipping three gradients whose global norm exceeds max_norm",
                      "clip_grad_norm", [{"W": _randn(r, 3, 4), "b": _randn(r, 4), "U": _randn(r, 2, 2, 2)}, 1.5],
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
    cases.append(Case("q6.probs_cold", "q6", 0.5, "probabilities at temperature 0.5 with large scores",
                      "temperature_softmax", [_randn(r, 3, 7, scale=300.0), 0.5],
                      partial(check_values, names=("probs",))))
    r = _rng(602)
    cases.append(Case("q6.probs_hot", "q6", 0.5, "probabilities at temperature 2.5", "temperature_softmax",
                      [_randn(r, 2, 5, scale=3.0), 2.5], partial(check_values, names=("probs",))))
    r = _rng(603)
    V, D, H = 6, 3, 5
    params = {"W_embed": _randn(r, V, D), "Wx": _randn(r, D, H), "Wh": _randn(r, H, H, scale=0.5),
              "b": _randn(r, H, scale=0.1), "W_out": _randn(r, H, V), "b_out": _randn(r, V, scale=0.1)}
    cases.append(Case("q6.sample", "q6", 1.0, "40 characters at temperature 0.8 from a fixed rng", "sample",
                      [params, 2, 40, 0.8, Rng(7)], check_sample, patch=("rnn_step_forward",)))

    # q7: train with the student's loop, every building block the reference's; judged by the reference.
    blocks = ("rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward", "embedding_forward",
              "embedding_backward", "temporal_softmax_loss", "clip_grad_norm")
    cases.append(Case("q7.train", "q7", 3.0, "training with the default TrainConfig, then the evaluation loss",
                      "train_char_lm", [ref.CORPUS_IDS.copy(), len(ref.CHARS), Config("TrainConfig", {})],
                      check_training, keep=(0,), patch=blocks, extra={"target": LOSS_TARGET}))
    return cases


# ---------------------------------------------------------------- self-checks (public, student side)
# Frozen np.linspace inputs, no RNG. Each check isolates one term (every other input zero), so that
# a failure names the faulty term. Backward checks use a cache made by the reference forward, so that
# a forward bug does not show up as a backward one.

X1 = np.linspace(-0.4, 0.5, num=6).reshape(2, 3)  # (N=2, D=3)
H1 = np.linspace(-0.3, 0.3, num=8).reshape(2, 4)  # (N=2, H=4)
WX1 = np.linspace(-0.2, 0.4, num=12).reshape(3, 4)  # (D, H)
WH1 = np.linspace(-0.3, 0.2, num=16).reshape(4, 4)  # (H, H)
B1 = np.linspace(-0.1, 0.1, num=4)  # (H,)
DNEXT1 = np.linspace(-0.5, 0.6, num=8).reshape(2, 4)  # (N, H)
BIG1 = 30.0 * np.ones((2, 3))  # saturates the tanh


def forward_shape(rnn_step_forward):
    next_h, _ = rnn_step_forward(X1, H1, WX1, WH1, B1)
    assert np.shape(next_h) == (2, 4), f"next_h should have shape (N, H) = (2, 4), got {np.shape(next_h)}"


def forward_only_x(rnn_step_forward):
    next_h, _ = rnn_step_forward(X1, Z((2, 4)), WX1, Z((4, 4)), Z(4))
    expect(next_h, "with prev_h = 0 and b = 0, next_h is wrong: check the x_t W_x term and the tanh")


def forward_only_prev_h(rnn_step_forward):
    next_h, _ = rnn_step_forward(Z((2, 3)), H1, Z((3, 4)), WH1, Z(4))
    expect(next_h, "with x = 0 and b = 0, next_h is wrong: check the h_{t-1} W_h term")


def forward_only_bias(rnn_step_forward):
    next_h, _ = rnn_step_forward(Z((2, 3)), Z((2, 4)), WX1, WH1, B1)
    expect(next_h, "with x = 0 and prev_h = 0, next_h is wrong: check how the bias b is added")


def forward_all(rnn_step_forward):
    next_h, _ = rnn_step_forward(X1, H1, WX1, WH1, B1)
    expect(next_h, "each term is right alone but not together: add the three terms inside one tanh")


def backward_tanh_derivative(rnn_step_forward, rnn_step_backward):
    _, cache = rnn_step_forward(BIG1, Z((2, 4)), WX1 + 1.0, WH1, Z(4))
    dx, dprev_h, dWx, dWh, db = rnn_step_backward(DNEXT1, cache)
    assert np.allclose(db, 0.0, atol=1e-6), ("the tanh is saturated (next_h = 1), so every gradient must be ~0: "
                                             "did you multiply dnext_h by the derivative of tanh, 1 - next_h**2?")


def backward_each_gradient(rnn_step_forward, rnn_step_backward):
    _, cache = rnn_step_forward(X1, H1, WX1, WH1, B1)
    grads = rnn_step_backward(DNEXT1, cache)
    assert len(grads) == 5, "return (dx, dprev_h, dWx, dWh, db), in the order of the forward's inputs"
    for label, got in zip(("dx", "dprev_h", "dWx", "dWh", "db"), grads):
        expect(got, f"{label} is wrong")


X2 = np.linspace(-0.5, 0.5, num=2 * 3 * 2).reshape(2, 3, 2)  # (N=2, T=3, D=2)
H02 = np.linspace(-0.2, 0.3, num=6).reshape(2, 3)  # (N, H=3)
WX2 = np.linspace(-0.4, 0.6, num=6).reshape(2, 3)  # (D, H)
WH2 = np.linspace(-0.5, 0.4, num=9).reshape(3, 3)  # (H, H)
B2 = np.linspace(-0.1, 0.2, num=3)  # (H,)
DH2 = np.linspace(-0.3, 0.4, num=18).reshape(2, 3, 3)  # (N, T, H)
DH2_LAST = np.zeros((2, 3, 3))
DH2_LAST[:, -1] = 1.0  # only the last hidden state receives a gradient


def forward_shape_and_first_step(rnn_forward):
    h, cache = rnn_forward(X2, H02, WX2, WH2, B2)
    assert np.shape(h) == (2, 3, 3), f"h should have shape (N, T, H) = (2, 3, 3), got {np.shape(h)}"
    assert len(cache) == 3, "the cache of rnn_forward must be the list of the T step caches"
    expect(h[:, 0], "h[:, 0] is wrong: the first step must start from h0 and read x[:, 0]")


def forward_all_steps(rnn_forward):
    h, _ = rnn_forward(X2, H02, WX2, WH2, B2)
    expect(h, "h is right at t = 0 but not later: each step must start from the previous step's h")


def backward_reaches_h0(rnn_forward, rnn_backward):
    _, cache = rnn_forward(X2, H02, WX2, WH2, B2)
    dx, dh0, dWx, dWh, db = rnn_backward(DH2_LAST, cache)
    expect(dh0, "only h at t = T-1 receives a gradient, and it must flow back through every step "
                "to h0: is dprev_h carried from step t to step t-1, down to t = 0?")
    expect(dx, "dx is wrong when only the last step receives a gradient: check the loop over t")


def backward_weights_summed(rnn_forward, rnn_backward):
    _, cache = rnn_forward(X2, H02, WX2, WH2, B2)
    dx, dh0, dWx, dWh, db = rnn_backward(DH2, cache)
    # dx and dh0 first: when they are wrong, the weight gradients are wrong as a consequence
    expect(dx, "dx is wrong: at step t the upstream gradient is dh[:, t] plus what flows back from t+1")
    expect(dh0, "dh0 is wrong: it is the gradient flowing out of step 0")
    expect(db, "db is wrong: the weights are shared, so their gradients are summed over all time steps")
    expect(dWx, "dWx is wrong: sum the contributions of every time step")
    expect(dWh, "dWh is wrong: sum the contributions of every time step")


IDX3 = np.array([[0, 3, 1], [3, 3, 2]])  # (N=2, T=3); index 3 occurs three times
W3 = np.linspace(-1.0, 1.0, num=5 * 2).reshape(5, 2)  # (V=5, D=2)
DOUT3 = np.linspace(0.1, 1.2, num=12).reshape(2, 3, 2)  # (N, T, D)


def forward_lookup(embedding_forward):
    out, _ = embedding_forward(IDX3, W3)
    assert np.shape(out) == (2, 3, 2), f"out should have shape (N, T, D) = (2, 3, 2), got {np.shape(out)}"
    expect(out, "out[n, t] must be the row W[x[n, t]]")


def backward_accumulates(embedding_forward, embedding_backward):
    _, cache = embedding_forward(IDX3, W3)
    dW = embedding_backward(DOUT3, cache)
    assert np.shape(dW) == (5, 2), f"dW should have the shape of W, (5, 2), got {np.shape(dW)}"
    assert np.allclose(dW[4], 0.0), "row 4 of W is never used, so dW[4] must be 0"
    expect(dW, "dW is wrong: index 3 occurs three times, so dW[3] must be the sum of three upstream "
               "gradients (dW[x] += dout keeps only one of them; np.add.at accumulates)")


SCORES4 = np.linspace(-1.0, 1.5, num=2 * 3 * 4).reshape(2, 3, 4)  # (N=2, T=3, V=4)
Y4 = np.array([[0, 3, 1], [2, 2, 0]])  # (N, T)
MASK4 = np.array([[True, True, False], [True, False, True]])  # (N, T)
ALL4 = np.ones((2, 3), dtype=bool)


def loss_without_mask(temporal_softmax_loss):
    loss, dx = temporal_softmax_loss(SCORES4, Y4, ALL4)
    expect(loss, "with every position unmasked the loss is wrong: sum over t of -log p[y], divided by N")
    expect(dx, "dx is wrong: softmax(x) minus one-hot(y), divided by N")


def loss_with_mask(temporal_softmax_loss):
    loss, dx = temporal_softmax_loss(SCORES4, Y4, MASK4)
    assert np.allclose(dx[0, 2], 0.0) and np.allclose(dx[1, 1], 0.0), "masked positions must have dx = 0"
    expect(loss, "the loss must ignore masked positions (and still divide by N)")
    expect(dx, "dx is wrong at the unmasked positions")


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
    expect(clipped["a"], "every array must be scaled by the same factor")


def small_gradients_untouched(clip_grad_norm):
    clipped, total_norm = clip_grad_norm({k: v.copy() for k, v in SMALL5.items()}, 1.0)
    assert np.allclose(clipped["a"], SMALL5["a"]) and np.allclose(clipped["b"], SMALL5["b"]), (
        "gradients whose norm is below max_norm must not change (the factor is at most 1)")


SCORES6 = np.linspace(-1.0, 2.0, num=2 * 4).reshape(2, 4)  # (N=2, V=4)
PARAMS6 = {
    "W_embed": np.linspace(-1, 1, num=5 * 2).reshape(5, 2),  # (V=5, D=2)
    "Wx": np.linspace(-0.5, 0.5, num=2 * 3).reshape(2, 3),  # (D, H=3)
    "Wh": np.linspace(-0.3, 0.3, num=3 * 3).reshape(3, 3),
    "b": np.zeros(3),
    "W_out": np.linspace(-1, 1, num=3 * 5).reshape(3, 5),
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
    expect(a, "the characters differ from the reference: embed the current character, "
              "one rnn_step_forward, then exactly one rng.choice(V, p=p) per step")


STEPS7 = 60


def loss_goes_down(train_char_lm, TrainConfig, CORPUS_IDS, CHARS):
    params, losses = train_char_lm(CORPUS_IDS, len(CHARS), TrainConfig(steps=STEPS7))
    assert len(losses) == STEPS7, f"losses should have one entry per step ({STEPS7}), got {len(losses)}"
    assert set(params) == {"W_embed", "Wx", "Wh", "b", "W_out", "b_out"}, "return every parameter of init_params"
    first, last = float(np.mean(losses[:10])), float(np.mean(losses[-10:]))
    assert np.isfinite(last), "the loss became inf/nan: check the update and the clipping"
    assert last < first - 0.5, (f"after {STEPS7} steps the per-character loss went from {first:.2f} to {last:.2f}: "
                                "it should drop clearly (sign of the update? learning rate? loss divided by T?)")
    assert first < 4.0, f"the first losses ({first:.2f}) are too large for a per-character loss: divide by T"


PUBLIC = {
    "q1": [forward_shape, forward_only_x, forward_only_prev_h, forward_only_bias, forward_all,
           backward_tanh_derivative, backward_each_gradient],
    "q2": [forward_shape_and_first_step, forward_all_steps, backward_reaches_h0, backward_weights_summed],
    "q3": [forward_lookup, backward_accumulates],
    "q4": [loss_without_mask, loss_with_mask, stable_for_large_scores],
    "q5": [total_norm_is_global, clipped_to_max_norm, small_gradients_untouched],
    "q6": [probabilities, probabilities_stable, sample_reproducible],
    "q7": [loss_goes_down],
}


# ---------------------------------------------------------------- example mistakes
# Each: the reference with `old` replaced by `new` once, inside a solution region. The reference must
# score full marks, the blank release 0, and each mistake below the maximum in its question only.

MISTAKES = {
    "q1_missing_tanh_derivative": Mistake(
        "q1", "da = dnext_h * (1.0 - next_h**2)", "da = dnext_h",
        "rnn_step_backward forgets the derivative of tanh", 'derivative of tanh'),
    "q2_dW_not_summed_over_time": Mistake(
        "q2", "dWx += dWx_t", "dWx = dWx_t",
        "rnn_backward keeps only the last step's contribution to dWx", 'dWx is wrong'),
    "q2_dprev_h_not_propagated": Mistake(
        "q2", "rnn_step_backward(dh[:, t, :] + dprev_h, cache[t])", "rnn_step_backward(dh[:, t, :], cache[t])",
        "rnn_backward drops the gradient flowing back from step t+1", 'is dprev_h carried'),
    "q2_off_by_one_in_time": Mistake(
        "q2", "for t in reversed(range(T)):\n        dx_t", "for t in reversed(range(1, T)):\n        dx_t",
        "rnn_backward stops before t = 0", 'down to t = 0'),
    "q3_embedding_overwrites": Mistake(
        "q3", "np.add.at(dW, x, dout)", "dW[x] += dout",
        "embedding_backward overwrites repeated rows instead of accumulating", 'np.add.at accumulates'),
    "q4_mask_ignored": Mistake(
        "q4", "m_flat = mask.reshape(N * T).astype(np.float64)", "m_flat = np.ones(N * T)",
        "temporal_softmax_loss ignores the mask", 'masked positions'),
    "q4_unstable_softmax": Mistake(
        "q4", "shifted = x_flat - x_flat.max(axis=1, keepdims=True)", "shifted = x_flat",
        "temporal_softmax_loss exponentiates raw scores (overflows for large scores)", "subtract each row's maximum"),
    "q5_clip_by_squared_norm": Mistake(
        "q5", "total_norm = float(np.sqrt(sum(", "total_norm = float((sum(",
        "clip_grad_norm uses the squared norm", 'square root of the sum of squares'),
    "q6_temperature_multiplies": Mistake(
        "q6", "z = np.asarray(scores, dtype=np.float64) / temperature",
        "z = np.asarray(scores, dtype=np.float64) * temperature",
        "temperature_softmax multiplies by the temperature instead of dividing", 'divide the scores by the temperature'),
    "q7_gradient_ascent": Mistake(
        "q7", "params[name] = params[name] - config.learning_rate", "params[name] = params[name] + config.learning_rate",
        "train_char_lm climbs the loss instead of descending it", 'should drop clearly'),
}
