"""Assignment 1 hidden cases: inputs (seeds, shapes, edge cases) and verdicts, instructor side only.

Points per question (the specification the example submissions are graded against):
q1 3, q2 4, q3 2, q4 3, q5 2, q6 2, q7 3; total 19. Every returned gradient is compared with
central differences of the reference forward pass, computed in the clean grading process.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ..cases import Case, Config, Outcome, Rng
from ..compare import first_wrong_step, numerical_gradient, problem

ASSIGNMENT = "a1"
QUESTIONS = {"q1": 3.0, "q2": 4.0, "q3": 2.0, "q4": 3.0, "q5": 2.0, "q6": 2.0, "q7": 3.0}
LOSS_TARGET = 1.0  # nats per character, on the evaluation batches (stated in the notebook)
TOL = 1e-6  # float64 relative error
TOL32 = 1e-4  # when the inputs are float32


def _rng(seed):
    return np.random.default_rng(seed)


def build_args(case: Case, ref) -> list:
    """The case's arguments as the reference should receive them (fresh copies, float64 arrays)."""
    args = []
    for arg in case.args:
        if isinstance(arg, np.ndarray):
            args.append(arg.astype(np.float64) if arg.dtype.kind == "f" else arg.copy())
        elif isinstance(arg, Rng):
            args.append(np.random.default_rng(arg.seed))
        elif isinstance(arg, Config):
            args.append(getattr(ref, arg.cls)(**arg.fields))
        elif isinstance(arg, dict):
            args.append({k: np.asarray(v, dtype=np.float64) for k, v in arg.items()})
        else:
            args.append(arg)
    return args


def _error(outputs) -> Outcome | None:
    if "error" in outputs:
        return Outcome(False, f"your code raised {outputs['error']}")
    return None


def _verdict(problems: list[str | None], extra: str = "") -> Outcome:
    found = [p for p in problems if p]
    if not found:
        return Outcome(True, "correct")
    return Outcome(False, "; ".join(found) + extra)


def check_values(case: Case, outputs: dict, ref, names: tuple[str, ...], tol: float = TOL) -> Outcome:
    """Compare returned values (``out.0``, ``out.1``... or ``out``) with the reference's."""
    if (bad := _error(outputs)) is not None:
        return bad
    expected = getattr(ref, case.fn)(*build_args(case, ref))
    if case.keep is not None:
        expected = tuple(expected[i] for i in case.keep)
    if not isinstance(expected, tuple):
        expected = (expected,)
    keys = ["out"] if len(names) == 1 else [f"out.{i}" for i in range(len(names))]
    return _verdict([problem(n, outputs.get(k), e, tol) for n, k, e in zip(names, keys, expected)])


def check_gradients(case: Case, outputs: dict, ref, out_name: str, grad_names: tuple[str, ...],
                    wrt: tuple[int, ...], tol: float = TOL, localise: bool = False) -> Outcome:
    """Forward output against the reference; every returned gradient against central differences."""
    if (bad := _error(outputs)) is not None:
        return bad
    args = build_args(case, ref)
    forward = getattr(ref, case.fn)
    dout = case.dout.astype(np.float64)

    def f():
        return forward(*args)[0]

    problems = [problem(out_name, outputs.get("out"), f(), tol)]
    extra = ""
    for name, i in zip(grad_names, wrt):
        key = "grad" if len(grad_names) == 1 else f"grad.{grad_names.index(name)}"
        expected = numerical_gradient(f, args[i], dout)
        problems.append(problem(name, outputs.get(key), expected, max(tol, 1e-5)))
        if localise and name == "dx" and problems[-1] and outputs.get(key) is not None:
            t = first_wrong_step(outputs[key], expected, 1e-5)
            if t is not None:
                extra = (f" (walking back from t = T-1 = {expected.shape[1] - 1}, dx is first wrong at "
                         f"t = {t}: look at what flows into step {t} from step {t + 1})")
    return _verdict(problems, extra)


def check_loss(case: Case, outputs: dict, ref, numerical: bool) -> Outcome:
    """temporal_softmax_loss: the loss value, and dx against central differences (or the reference)."""
    if (bad := _error(outputs)) is not None:
        return bad
    x, y, mask = build_args(case, ref)
    loss, dx = ref.temporal_softmax_loss(x, y, mask)
    if numerical:
        dx = numerical_gradient(lambda: np.array(ref.temporal_softmax_loss(x, y, mask)[0]), x, np.array(1.0))
    return _verdict([problem("loss", outputs.get("out.0"), loss, TOL),
                     problem("dx", outputs.get("out.1"), dx, 1e-5)])


def check_clip(case: Case, outputs: dict, ref) -> Outcome:
    if (bad := _error(outputs)) is not None:
        return bad
    grads, max_norm = build_args(case, ref)
    clipped, total = ref.clip_grad_norm(grads, max_norm)
    problems = [problem("total_norm", outputs.get("out.1"), total, TOL)]
    for name, value in clipped.items():
        problems.append(problem(f"clipped['{name}']", outputs.get(f"out.0.{name}"), value, TOL32))
    return _verdict(problems)


def check_sample(case: Case, outputs: dict, ref) -> Outcome:
    if (bad := _error(outputs)) is not None:
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
    if (bad := _error(outputs)) is not None:
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
