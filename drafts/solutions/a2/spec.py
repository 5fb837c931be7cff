"""Assignment 2, everything the instructor writes besides the notebook: gated cells (torch), the LSTM
step's backward (numpy), an LSTM layer, truncated BPTT, the adding problem, one concept question.

Torch's layout throughout (``utils.lstm``, ``utils.gru``): ``weight_ih`` (G*H, D), ``weight_hh`` (G*H, H),
two biases, gates i, f, g, o (LSTM) and r, z, n (GRU, the reset after the hidden matmul).
``tests/test_a2_reference.py`` ties the reference to ``nn.LSTMCell``, ``nn.GRUCell``, ``nn.LSTM`` and utils.
Points: q1 3, q2 3, q3 2, q4 2, q5 3, q6 3, q7 1; total 17.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import torch

from autograder.checks import expect
from autograder.compare import numerical_gradient, problem, rel_error
from autograder.spec import Case, Config, FromReference, Global, Mistake, Outcome
from autograder.verdicts import TOL, TOL32, build_args, error, memo, verdict

QUESTIONS = {"q1": 3.0, "q2": 3.0, "q3": 2.0, "q4": 2.0, "q5": 3.0, "q6": 3.0, "q7": 1.0}
MSE_TARGET = 0.05  # the adding problem at T = 50 (stated in the notebook)
GATE_ROWS = {"lstm": "ifgo", "gru": "rzn"}
STEP_GRADS = ("dx", "dprev_h", "dprev_c", "dW_ih", "dW_hh", "db_ih", "db_hh")
_RECURRENT = ("torch.nn.LSTM", "torch.nn.GRU", "torch.nn.RNN", "torch.nn.LSTMCell", "torch.nn.GRUCell",
              "torch.nn.RNNCell", "torch.lstm", "torch.gru", "torch.rnn_tanh", "torch.lstm_cell", "torch.gru_cell",
              "torch.rnn_tanh_cell")
# Per question: what the graded functions must not call (autograder/forbidden.py).
FORBIDDEN = {"q1": _RECURRENT, "q3": _RECURRENT, "q4": _RECURRENT, "q6": _RECURRENT}


def _t(seed, *shape, scale=1.0, dtype=torch.float64, grad=False):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).to(dtype).requires_grad_(grad)


def _cell_args(seed, N, D, H, G, dtype=torch.float64, scale=1.0, grad=False, state="lstm"):
    """x, state, weight_ih, weight_hh, bias_ih, bias_hh for an LSTM (state (h, c)) or a GRU (state h)."""
    x = _t(seed, N, D, scale=scale, dtype=dtype, grad=grad)
    h = _t(seed + 1, N, H, scale=scale, dtype=dtype, grad=grad)
    weights = [_t(seed + 3, G * H, D, scale=0.7, dtype=dtype), _t(seed + 4, G * H, H, scale=0.7, dtype=dtype),
               _t(seed + 5, G * H, scale=0.3, dtype=dtype), _t(seed + 6, G * H, scale=0.3, dtype=dtype)]
    if state == "lstm":
        return [x, (h, _t(seed + 2, N, H, scale=scale, dtype=dtype, grad=grad)), *weights]
    return [x, h, *weights]


def _blocks(name, got, want, order, tol):
    """The gate blocks (rows of a (G*H, ...) gradient) where ``got`` differs from ``want``."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        return ""
    H = want.shape[0] // len(order)
    wrong = [g for k, g in enumerate(order) if rel_error(got[k * H:(k + 1) * H], want[k * H:(k + 1) * H]) > tol]
    return f" ({name} is wrong in the block of gate {', '.join(wrong)})" if wrong else ""


# ---------------------------------------------------------------- q1, q3: cells against the reference

def _variant_lstm(args, variant):
    """The reference LSTM step with one known slip (named in the verdict when the student's output matches)."""
    from utils import lstm

    x, (h, c), W_ih, W_hh, b_ih, b_hh = args
    if variant == "ifog":
        W_ih, W_hh, b_ih, b_hh = (lstm.reorder_gates(w, "ifog", "ifgo") for w in (W_ih, W_hh, b_ih, b_hh))
        return lstm.lstm_cell(x, (h, c), W_ih, W_hh, b_ih, b_hh)
    gates = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i, f, g, o = (torch.sigmoid(a) if k != 2 else torch.tanh(a) for k, a in enumerate(gates.chunk(4, dim=1)))
    next_c = f * c + i * g
    return o * next_c, next_c  # "no_tanh": the output gate applied to the raw cell state


LSTM_SLIPS = {"ifog": "you split the gates in the order i, f, o, g (CS231n, char-rnn): torch's order is i, f, g, o",
              "no_tanh": "next_c is right but next_h is o * c: apply tanh to the new cell state, next_h = o * tanh(c)"}
GRU_SLIPS = {("before", "keep"): "that is the paper's GRU (Cho et al. 2014), the reset before the matmul, "
                                 "W_hn (r * h); torch applies it after: r * (W_hn h + b_hn)",
             ("after", "write"): "your z weighs the candidate, z * n + (1 - z) * h; in torch's convention z keeps "
                                 "the old state: (1 - z) * n + z * h"}


def check_cell(case: Case, outputs: dict, ref, kind: str, tol: float = TOL) -> Outcome:
    """next_h (and next_c) against the reference cell; a known slip is named."""
    if (bad := error(outputs)) is not None:
        return bad
    args = build_args(case, ref)
    if kind == "lstm":
        with torch.no_grad():
            want = memo(case, "want", lambda: [v.numpy() for v in ref.lstm_cell(*args)])
        got = [outputs.get("out.0"), outputs.get("out.1")]
        names = ("next_h", "next_c")
    else:
        with torch.no_grad():
            want = memo(case, "want", lambda: [ref.gru_cell(*args).numpy()])
        got, names = [outputs.get("out")], ("next_h",)
    found = verdict([problem(n, g, w, tol) for n, g, w in zip(names, got, want)])
    if found.passed or any(g is None or np.shape(g) != w.shape for g, w in zip(got, want)):
        return found
    from utils import gru

    with torch.no_grad():
        if kind == "lstm":
            slips = {k: [v.numpy() for v in _variant_lstm(args, k)] for k in LSTM_SLIPS}
            hints = LSTM_SLIPS
        else:
            slips = {k: [gru.gru_cell(*args, reset=k[0], update=k[1]).numpy()] for k in GRU_SLIPS}
            hints = GRU_SLIPS
    for key, values in slips.items():
        if all(rel_error(g, v) < max(tol, 1e-6) for g, v in zip(got, values)):
            return Outcome(False, f"{found.message}: {hints[key]}")
    return found


# ---------------------------------------------------------------- q2: the numpy LSTM step backward

def check_step_backward(case: Case, outputs: dict, ref, tol: float = 1e-5) -> Outcome:
    """Every gradient against central differences of lstm_step_forward; the wrong gate block is named."""
    if (bad := error(outputs)) is not None:
        return bad
    inputs = [np.array(a, dtype=np.float64) for a in case.extra["inputs"]]
    dh, dc = (np.asarray(a, dtype=np.float64) for a in case.args[:2])

    def f():
        next_h, next_c, _ = ref.lstm_step_forward(*inputs)
        return np.concatenate([next_h, next_c], axis=1)

    dout = np.concatenate([dh, dc], axis=1)
    problems = []
    for k, name in enumerate(STEP_GRADS):
        want = memo(case, name, lambda: numerical_gradient(f, inputs[k], dout))
        got = outputs.get(f"out.{k}")
        found = problem(name, got, want, tol)
        if found and name in ("dW_ih", "dW_hh", "db_ih", "db_hh"):
            found += _blocks(name, got, want, GATE_ROWS["lstm"], tol)
        problems.append(found)
    return verdict(problems)


# ---------------------------------------------------------------- q4: the layer

def check_layer(case: Case, outputs: dict, ref, tol: float = TOL) -> Outcome:
    if (bad := error(outputs)) is not None:
        return bad
    with torch.no_grad():
        out, (h_n, c_n) = memo(case, "want", lambda: ref.lstm_layer(*build_args(case, ref)))
    got = outputs.get("out.0")
    problems = [problem("output", got, out.numpy(), tol), problem("h_n", outputs.get("out.1.0"), h_n.numpy(), tol),
                problem("c_n", outputs.get("out.1.1"), c_n.numpy(), tol)]
    hint = ""
    N, T = out.shape[:2]
    if got is not None and np.shape(got) == (T, N, out.shape[2]) and N != T:
        hint = ": output is time-major (T, N, H); the layer is batch-first, x[:, t] is step t, stack on dim 1"
    elif got is not None and np.shape(got) == tuple(out.shape):
        x, _, *weights = build_args(case, ref)
        with torch.no_grad():
            zero = ref.lstm_layer(x, None, *weights)[0].numpy()
        if rel_error(got, zero) < 1e-6:
            hint = ": output is what a zero initial state gives: start from the given state (h0, c0)"
    return verdict(problems, hint)


# ---------------------------------------------------------------- q5: truncated BPTT, by behaviour

def _tbptt(model, ids, config, carry=True, reset_epoch=True):
    """The loop with one behaviour changed (to name what a submission does), float64 on the CPU."""
    from utils.data import StreamBatches

    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)
    losses, state = [], None
    for _ in range(config.epochs):
        state = None if reset_epoch else state
        for x, y in StreamBatches(ids, config.batch_size, config.seq_len):
            if not carry:
                state = None
            state = None if state is None else tuple(s.detach() for s in state)
            logits, state = model(torch.as_tensor(x), state)
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), torch.as_tensor(y).reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_norm)
            optimizer.step()
            losses.append(loss.item())
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}, np.array(losses)


TBPTT_SLIPS = {"carry": "the state is reset at every batch: carry the previous batch's (h, c), detached, into the next",
               "reset_epoch": "the state is carried from one epoch into the next: reset it (None) when an epoch starts"}


def _params_and_losses(outputs, ref, case):
    model_cfg = case.args[0]
    names = list(ref.CharLSTM(**model_cfg.fields).state_dict())
    params = {}
    for name in names:
        value = outputs.get(f"out.0.{name}")
        if value is None:
            return None, None, f"the returned model has no parameter {name}: return (model, losses)"
        params[name] = np.asarray(value, dtype=np.float64)
    losses = outputs.get("out.1")
    return params, (None if losses is None else np.asarray(losses, dtype=np.float64).ravel()), None


def _explain(exc_text: str) -> str:
    if "backward through the graph a second time" in exc_text:
        return (" (the state carried from the previous batch is still attached to that batch's graph: "
                "detach both h and c before the next batch)")
    return ""


def check_tbptt(case: Case, outputs: dict, ref) -> Outcome:
    """Losses and trained parameters against the reference loop; a known behaviour is named."""
    if (bad := error(outputs)) is not None:
        return Outcome(False, bad.message + _explain(str(outputs["error"])))
    params, losses, bad = _params_and_losses(outputs, ref, case)
    if bad:
        return Outcome(False, bad)
    model_cfg, ids, cfg = case.args[0], case.args[1], case.args[2]

    def run(**behaviour):
        return _tbptt(ref.CharLSTM(**model_cfg.fields), ids, ref.TBPTTConfig(**cfg.fields), **behaviour)

    want_params, want_losses = memo(case, "reference", run)
    if losses is None or losses.shape != want_losses.shape:
        return Outcome(False, f"losses must be a list of {len(want_losses)} floats, one per batch (got "
                              f"{'nothing' if losses is None else losses.shape})")
    if rel_error(losses, want_losses) < 1e-6 and all(rel_error(params[k], v) < 1e-6 for k, v in want_params.items()):
        return Outcome(True, "correct")
    for slip, hint in TBPTT_SLIPS.items():
        slip_params, slip_losses = memo(case, slip, lambda: run(**{slip: False}))
        if rel_error(losses, slip_losses) < 1e-6:
            return Outcome(False, f"the losses differ from truncated BPTT's: {hint}")
    first = int(np.argmax(np.abs(losses - want_losses) > 1e-6 * (1 + np.abs(want_losses))))
    return Outcome(False, f"the losses differ from truncated BPTT's from batch {first} on (carry and detach the state, "
                          f"clip by the global norm, one SGD step per batch)")


def check_clip_bound(case: Case, outputs: dict, ref) -> Outcome:
    """With lr = 1 one SGD step moves the parameters by the clipped gradient: at most max_norm overall."""
    if (bad := error(outputs)) is not None:
        return bad
    params, _, bad = _params_and_losses(outputs, ref, case)
    if bad:
        return Outcome(False, bad)
    start = {k: v.detach().numpy() for k, v in ref.CharLSTM(**case.args[0].fields).state_dict().items()}
    moved = float(np.sqrt(sum(np.sum((params[k] - start[k]) ** 2) for k in start)))
    max_norm = case.args[2].fields["max_norm"]
    if moved > max_norm * (1 + 1e-4):
        return Outcome(False, f"one step with lr = 1 moved the parameters by {moved:.4f} in global norm, more than "
                              f"max_norm = {max_norm}: clip the norm of all gradients together, not each parameter's")
    if moved < 0.5 * max_norm:
        return Outcome(False, f"one step with lr = 1 moved the parameters by only {moved:.4f} (max_norm = {max_norm}): "
                              f"is the step taken after clipping, with the clipped gradients?")
    return Outcome(True, "correct")


# ---------------------------------------------------------------- q6, q7

def check_adding(case: Case, outputs: dict, ref) -> Outcome:
    if (bad := error(outputs)) is not None:
        return bad
    y = np.asarray(case.extra["y"], dtype=np.float64)
    pred = outputs.get("out")
    if pred is None or np.asarray(pred).dtype.kind != "f":
        return Outcome(False, "adding_model(x) must return a tensor of predictions, one per sequence")
    pred = np.asarray(pred, dtype=np.float64)
    if pred.shape != y.shape:
        return Outcome(False, f"adding_model(x) returned shape {pred.shape} for x of shape {(len(y), 50, 2)}; "
                              f"expected {y.shape}, one number per sequence (squeeze the read-out)")
    mse = float(np.mean((pred - y) ** 2))
    target = case.extra["target"]
    if mse < target:
        return Outcome(True, f"mean squared error {mse:.4f} < {target}")
    return Outcome(False, f"mean squared error {mse:.4f} on fresh sequences is not below {target}")


def check_answer(case: Case, outputs: dict, ref) -> Outcome:
    if (bad := error(outputs)) is not None:
        return bad
    got = outputs.get("out")
    if got is None or np.asarray(got).dtype.kind not in "iuf" or np.asarray(got).size != 1:
        return Outcome(False, "additive_gate() must return one number, 1 to 4")
    if float(got) == float(ref.additive_gate()):
        return Outcome(True, "correct")
    return Outcome(False, "not that one: which factor multiplies c_{t-1} in c_t = f * c_{t-1} + i * g?")


# ---------------------------------------------------------------- hidden cases

def _step_inputs(seed, N, D, H, dtype=np.float64):
    r = np.random.default_rng(seed)
    return [r.standard_normal(s).astype(dtype) * sc for s, sc in
            (((N, D), 1.0), ((N, H), 1.0), ((N, H), 1.0), ((4 * H, D), 0.6), ((4 * H, H), 0.6), ((4 * H,), 0.3),
             ((4 * H,), 0.3))]


def _step_case(ref, cid, points, describe, seed, N, D, H, dh=True, dc=True, dtype=np.float64, tol=1e-5):
    inputs = _step_inputs(seed, N, D, H, dtype)
    _, _, cache = ref.lstm_step_forward(*inputs)
    r = np.random.default_rng(seed + 50)
    dnext_h = r.standard_normal((N, H)).astype(dtype) * dh
    dnext_c = r.standard_normal((N, H)).astype(dtype) * dc
    return Case(cid, "q2", points, describe, "lstm_step_backward", [dnext_h, dnext_c, tuple(cache)],
                partial(check_step_backward, tol=tol), extra={"inputs": inputs})


def hidden_cases(ref) -> list[Case]:
    """All hidden cases of assignment 2 (deterministic: fixed seeds)."""
    lstm, gru = partial(check_cell, kind="lstm"), partial(check_cell, kind="gru")
    cases = [
        Case("q1.float64", "q1", 1.0, "next_h and next_c for N=3, D=4, H=5 in float64", "lstm_cell",
             _cell_args(101, 3, 4, 5, 4), lstm),
        Case("q1.requires_grad", "q1", 0.5, "inputs that require gradients, N=4, D=2, H=3", "lstm_cell",
             _cell_args(111, 4, 2, 3, 4, grad=True), lstm),
        Case("q1.float32", "q1", 0.5, "float32 tensors, N=2, D=3, H=2", "lstm_cell",
             _cell_args(121, 2, 3, 2, 4, dtype=torch.float32), partial(check_cell, kind="lstm", tol=TOL32)),
        Case("q1.n1_h1", "q1", 0.5, "a batch of one and one hidden unit (N=1, H=1)", "lstm_cell",
             _cell_args(131, 1, 2, 1, 4), lstm),
        Case("q1.large", "q1", 0.5, "large pre-activations (saturated gates)", "lstm_cell",
             _cell_args(141, 3, 3, 4, 4, scale=4.0), lstm),
        _step_case(ref, "q2.both", 1.0, "every gradient for N=3, D=4, H=5, both upstream gradients", 201, 3, 4, 5),
        _step_case(ref, "q2.only_dc", 0.5, "every gradient when only next_c receives a gradient", 211, 2, 3, 4, dh=False),
        _step_case(ref, "q2.only_dh", 0.5, "every gradient when only next_h receives a gradient", 221, 2, 3, 4, dc=False),
        _step_case(ref, "q2.n1_h1", 0.5, "every gradient for N=1, H=1", 231, 1, 2, 1),
        _step_case(ref, "q2.float32", 0.5, "every gradient for float32 inputs", 241, 2, 3, 3, dtype=np.float32,
                   tol=TOL32),
        Case("q3.float64", "q3", 1.0, "next_h for N=3, D=4, H=5 in float64", "gru_cell",
             _cell_args(301, 3, 4, 5, 3, state="gru"), gru),
        Case("q3.float32_n1_h1", "q3", 0.5, "float32 tensors, N=1, H=1", "gru_cell",
             _cell_args(311, 1, 3, 1, 3, dtype=torch.float32, state="gru"), partial(check_cell, kind="gru", tol=TOL32)),
        Case("q3.large_state", "q3", 0.5, "a large previous state", "gru_cell",
             _cell_args(321, 2, 2, 4, 3, scale=3.0, state="gru"), gru),
    ]

    def layer(seed, N, T, D, H, dtype=torch.float64):
        # (state=None cannot be shipped as an argument: the self-check covers it)
        return [_t(seed, N, T, D, dtype=dtype), (_t(seed + 1, N, H, dtype=dtype), _t(seed + 2, N, H, dtype=dtype)),
                _t(seed + 3, 4 * H, D, scale=0.5, dtype=dtype), _t(seed + 4, 4 * H, H, scale=0.5, dtype=dtype),
                _t(seed + 5, 4 * H, scale=0.2, dtype=dtype), _t(seed + 6, 4 * H, scale=0.2, dtype=dtype)]

    patch = ("lstm_cell",)
    cases += [
        Case("q4.state", "q4", 1.0, "output, h_n, c_n for N=2, T=5, D=3, H=4 from a given state", "lstm_layer",
             layer(401, 2, 5, 3, 4), check_layer, patch=patch),
        Case("q4.t1_n1", "q4", 0.5, "a single step and a batch of one (T=1, N=1)", "lstm_layer",
             layer(411, 1, 1, 2, 3), check_layer, patch=patch),
        Case("q4.float32", "q4", 0.5, "float32 tensors, N=3, T=4, D=2, H=2", "lstm_layer",
             layer(421, 3, 4, 2, 2, dtype=torch.float32), partial(check_layer, tol=TOL32), patch=patch),
    ]

    r = np.random.default_rng(501)
    ids = r.integers(0, 6, size=400)  # a corpus the notebook does not use, V = 6

    def tbptt(cid, points, describe, n_ids, check, **fields):
        cfg = {"batch_size": 3, "seq_len": 8, "epochs": 1, "lr": 0.5, "max_norm": 0.5, **fields}
        return Case(cid, "q5", points, describe, "train_tbptt",
                    [Config("CharLSTM", {"vocab_size": 6, "hidden_size": 5, "seed": 7}), ids[:n_ids],
                     Config("TBPTTConfig", cfg), Global("DEVICE")], check)

    cases += [
        tbptt("q5.one_batch", 0.5, "losses and parameters after one batch", 3 * 8 + 1, check_tbptt),
        tbptt("q5.one_epoch", 1.0, "losses and parameters after one epoch of four contiguous batches", 4 * 3 * 8 + 1,
              check_tbptt),
        tbptt("q5.two_epochs", 0.5, "losses and parameters after two epochs of two batches", 2 * 3 * 8 + 1,
              check_tbptt, epochs=2),
        tbptt("q5.clip_bound", 1.0, "the size of one update when clipping is active (lr = 1)", 3 * 8 + 1,
              check_clip_bound, lr=1.0, max_norm=0.01),
    ]

    x, y = __import__("utils.tasks", fromlist=["adding_problem"]).adding_problem(2000, 50, 2026)
    cases += [
        Case("q6.fresh", "q6", 2.5, "mean squared error of the trained model on 2,000 fresh sequences (T = 50)",
             "adding_model", [torch.as_tensor(x)], check_adding, extra={"y": y, "target": MSE_TARGET}),
        Case("q6.one_sequence", "q6", 0.5, "a batch of one sequence", "adding_model", [torch.as_tensor(x[:1])],
             check_adding, extra={"y": y[:1], "target": MSE_TARGET * 20}),
        Case("q7.answer", "q7", 1.0, "the gate that makes the cell-state path additive", "additive_gate", [],
             check_answer),
    ]
    return cases


# ---------------------------------------------------------------- self-checks (public)
# Frozen inputs; gates pinned open or shut with large biases (sigmoid(+-50) is 1 or 0) so a failure names one gate.

X1 = torch.linspace(-1.0, 1.0, 6, dtype=torch.float64).reshape(2, 3)  # (N=2, D=3)
H1 = torch.linspace(0.6, -0.5, 8, dtype=torch.float64).reshape(2, 4)  # (N, H=4)
C1 = torch.linspace(-0.8, 0.9, 8, dtype=torch.float64).reshape(2, 4)
W_IH1 = torch.linspace(-0.7, 0.8, 48, dtype=torch.float64).reshape(16, 3)  # (4H, D)
W_HH1 = torch.linspace(0.5, -0.6, 64, dtype=torch.float64).reshape(16, 4)  # (4H, H)
B_IH1 = torch.linspace(-0.3, 0.4, 16, dtype=torch.float64)
B_HH1 = torch.linspace(0.2, -0.25, 16, dtype=torch.float64)
PIN_I_SHUT_O_OPEN = torch.tensor([-50.0] * 4 + [0.0] * 8 + [50.0] * 4, dtype=torch.float64)
PIN_F_SHUT_O_OPEN = torch.tensor([0.0] * 4 + [-50.0] * 4 + [0.0] * 4 + [50.0] * 4, dtype=torch.float64)


def lstm_forget_gate(lstm_cell):
    h, c = lstm_cell(X1, (H1, C1), W_IH1, W_HH1, B_IH1 + PIN_I_SHUT_O_OPEN, B_HH1)
    assert tuple(c.shape) == (2, 4), f"next_c should be (N, H) = (2, 4), got {tuple(c.shape)}"
    expect(c, "with the input gate shut, next_c = f * prev_c, f = sigmoid(rows H..2H): is the forget gate the "
              "second block, and does it multiply the old cell state c (not the new candidate)?")


def lstm_input_and_candidate(lstm_cell):
    h, c = lstm_cell(X1, (H1, C1), W_IH1, W_HH1, B_IH1 + PIN_F_SHUT_O_OPEN, B_HH1)
    expect(c, "with the forget gate shut, next_c = i * g, i = sigmoid(block 0), g = tanh(block 2): torch's order is "
              "i, f, g, o (not CS231n's i, f, o, g)")


def lstm_output_gate(lstm_cell):
    h, c = lstm_cell(X1, (H1, C1), W_IH1, W_HH1, B_IH1, B_HH1)
    expect(c, "each gate is right alone but not together: next_c = f * c + i * g")
    expect(h, "next_c is right but next_h is not: next_h = o * tanh(next_c), o = sigmoid(block 3)")


def lstm_float32(lstm_cell):
    h, c = lstm_cell(X1.float(), (H1.float(), C1.float()), W_IH1.float(), W_HH1.float(), B_IH1.float(), B_HH1.float())
    assert h.dtype == torch.float32, f"float32 inputs must give a float32 next_h, got {h.dtype}"


N2, D2, H2 = 2, 3, 2
_R2 = np.random.default_rng(7)
STEP2 = [np.round(_R2.standard_normal(s) * 0.8, 3) for s in ((N2, D2), (N2, H2), (N2, H2), (4 * H2, D2), (4 * H2, H2),
                                                             (4 * H2,), (4 * H2,))]
CACHE2 = FromReference(lambda ref: tuple(ref.lstm_step_forward(*STEP2)[2]))
DH2 = np.linspace(-0.5, 0.7, N2 * H2).reshape(N2, H2)
DC2 = np.linspace(0.4, -0.3, N2 * H2).reshape(N2, H2)


def backward_cell_path(lstm_step_backward):
    grads = lstm_step_backward(np.zeros((N2, H2)), DC2, CACHE2)
    assert len(grads) == 7, "return dx, dprev_h, dprev_c, dW_ih, dW_hh, db_ih, db_hh (7 values)"
    expect(grads[2], "only next_c receives a gradient: dprev_c = dc * f (the cell path is multiplied by the forget gate)")
    db = np.asarray(grads[5])
    expect(db[0:2], "gate i (block 0 of db_ih) is wrong: di = dc * g, then through the sigmoid, di * i * (1 - i)")
    expect(db[2:4], "gate f (block 1 of db_ih) is wrong: df = dc * prev_c, then through the sigmoid, df * f * (1 - f)")
    expect(db[4:6], "gate g (block 2 of db_ih) is wrong: dg = dc * i, then through the tanh, dg * (1 - g**2)")


def backward_output_path(lstm_step_backward):
    grads = lstm_step_backward(DH2, np.zeros((N2, H2)), CACHE2)
    db = np.asarray(grads[5])
    expect(db[6:8], "gate o (block 3 of db_ih) is wrong: do = dnext_h * tanh(next_c), then do * o * (1 - o)")
    expect(grads[2], "dprev_c is wrong when only next_h receives a gradient: dc = dnext_h * o * (1 - tanh(c)**2) "
                     "reaches the cell state first")


def backward_every_gradient(lstm_step_backward):
    dx, dprev_h, dprev_c, dW_ih, dW_hh, db_ih, db_hh = lstm_step_backward(DH2, DC2, CACHE2)
    expect(dx, "dx is wrong: dx = da @ W_ih, da the (N, 4H) pre-activation gradient")
    expect(dprev_h, "dprev_h is wrong: dprev_h = da @ W_hh")
    expect(dW_ih, "dW_ih is wrong: da.T @ x, in W_ih's (4H, D) layout")
    expect(dW_hh, "dW_hh is wrong: da.T @ prev_h")
    expect(db_hh, "db_hh is wrong: b_hh enters like b_ih, so it is the same sum of da over the batch")


W_IH3 = torch.linspace(-0.7, 0.8, 36, dtype=torch.float64).reshape(12, 3)  # (3H, D), H = 4
W_HH3 = torch.linspace(0.5, -0.6, 48, dtype=torch.float64).reshape(12, 4)
B_IH3 = torch.linspace(-0.3, 0.4, 12, dtype=torch.float64)
B_HH3 = torch.linspace(0.2, -0.25, 12, dtype=torch.float64)
PIN_Z_OPEN = torch.tensor([0.0] * 4 + [50.0] * 4 + [0.0] * 4, dtype=torch.float64)
PIN_Z_SHUT_R_SHUT = torch.tensor([-50.0] * 4 + [-50.0] * 4 + [0.0] * 4, dtype=torch.float64)


def gru_keeps_state(gru_cell):
    h = gru_cell(X1, H1, W_IH3, W_HH3, B_IH3 + PIN_Z_OPEN, B_HH3)
    assert tuple(h.shape) == (2, 4), f"next_h should be (N, H) = (2, 4), got {tuple(h.shape)}"
    expect(h, "with z = 1 torch's GRU keeps the old state, next_h = (1 - z) * n + z * h = h: "
              "is 1 - z swapped (z * n + (1 - z) * h)?")


def gru_reset_shut(gru_cell):
    h = gru_cell(X1, H1, W_IH3, W_HH3, B_IH3 + PIN_Z_SHUT_R_SHUT, B_HH3)
    expect(h, "with z = 0 and r = 0, torch's candidate is n = tanh(W_in x + b_in): r multiplies (W_hn h + b_hn), "
              "so b_hn is reset too (the paper's GRU, W_hn (r * h) + b_hn, keeps it)")


def gru_all_gates(gru_cell):
    expect(gru_cell(X1, H1, W_IH3, W_HH3, B_IH3, B_HH3),
           "each gate is right alone but not together: is it the paper's GRU, W_hn (r * h)? Torch applies the "
           "reset after the matmul: r * (W_hn h + b_hn)")


X4 = torch.linspace(-1.0, 1.0, 2 * 3 * 3, dtype=torch.float64).reshape(2, 3, 3)  # (N=2, T=3, D=3)
STATE4 = (torch.linspace(-0.3, 0.3, 8, dtype=torch.float64).reshape(2, 4),
          torch.linspace(0.5, -0.5, 8, dtype=torch.float64).reshape(2, 4))


def layer_shapes(lstm_layer):
    out, (h_n, c_n) = lstm_layer(X4, STATE4, W_IH1, W_HH1, B_IH1, B_HH1)
    assert tuple(out.shape) == (2, 3, 4), (f"output should be batch-first (N, T, H) = (2, 3, 4), got "
                                           f"{tuple(out.shape)}: x[:, t] is step t, stack on dim 1")
    expect(out[:, 0], "output[:, 0] is wrong: the first step starts from the given state (h0, c0)")
    expect(out, "output is right at t = 0 but not later: each step starts from the previous step's (h, c)")
    expect(c_n, "c_n is wrong: return the last step's cell state")


def layer_zero_state(lstm_layer):
    out, _ = lstm_layer(X4, None, W_IH1, W_HH1, B_IH1, B_HH1)
    expect(out, "with state=None the layer starts from zeros (N, H) for both h and c")


MODEL5 = {"vocab_size": 5, "hidden_size": 4, "seed": 3}
IDS5 = np.array([0, 1, 2, 3, 4, 3, 2, 1] * 13 + [0], dtype=np.int64)  # 105 ids: 4 batches of 2 x 12 + 1


def tbptt_carries_state(train_tbptt, CharLSTM, TBPTTConfig):
    try:
        _, losses = train_tbptt(CharLSTM(**MODEL5), IDS5, TBPTTConfig(batch_size=2, seq_len=12, epochs=1), "cpu")
    except RuntimeError as exc:
        assert "second time" not in str(exc), ("the second batch backpropagates into the first batch's graph: detach "
                                               "both h and c of the carried state")
        raise
    assert len(losses) == 4, f"one loss per batch: 4 batches, got {len(losses)}"
    expect(np.asarray(losses[:1]), "the first batch's loss differs: cross-entropy of logits (N*T, V) against y (N*T,)")
    expect(np.asarray(losses), "the first batch is right but later ones are not: the state must carry over from one "
                               "batch to the next (pass the previous batch's state, detached)")


def tbptt_resets_each_epoch(train_tbptt, CharLSTM, TBPTTConfig):
    _, losses = train_tbptt(CharLSTM(**MODEL5), IDS5[:49], TBPTTConfig(batch_size=2, seq_len=12, epochs=2), "cpu")
    expect(np.asarray(losses), "epoch 1 is right but epoch 2 is not: reset the state (None) at the start of every epoch")


def tbptt_clips_global_norm(train_tbptt, CharLSTM, TBPTTConfig):
    start = {k: v.clone() for k, v in CharLSTM(**MODEL5).state_dict().items()}
    model, _ = train_tbptt(CharLSTM(**MODEL5), IDS5[:25], TBPTTConfig(batch_size=2, seq_len=12, epochs=1, lr=1.0,
                                                                      max_norm=0.01), "cpu")
    moved = sum(float(((v.cpu() - start[k]) ** 2).sum()) for k, v in model.state_dict().items()) ** 0.5
    assert moved <= 0.01 * (1 + 1e-4), (f"one step with lr = 1 and max_norm = 0.01 moved the parameters by {moved:.4f}: "
                                        "clip the norm of all gradients together (the global norm), not each parameter's")


def adding_trained(adding_model, adding_mse):
    mse = adding_mse(adding_model)
    assert mse < 0.05, (f"your model's MSE is {mse:.4f}, not below 0.05: is the memory gate's bias set, the "
                        f"gradient clipped, the read-out on the last state?")


def adding_one_sequence(adding_model, adding_problem, DEVICE):
    x, _ = adding_problem(1, 50, 0)
    out = adding_model(torch.as_tensor(x, device=DEVICE))
    assert tuple(out.shape) == (1,), f"adding_model(x) for one sequence should have shape (1,), got {tuple(out.shape)}"


def answer_given(additive_gate):
    answer = additive_gate()
    assert answer in (1, 2, 3, 4), "additive_gate() must return 1, 2, 3 or 4"
    expect(np.asarray(float(answer)), "not that one: which factor multiplies c_{t-1} in c_t = f * c_{t-1} + i * g?")


PUBLIC = {
    "q1": [lstm_forget_gate, lstm_input_and_candidate, lstm_output_gate, lstm_float32],
    "q2": [backward_cell_path, backward_output_path, backward_every_gradient],
    "q3": [gru_keeps_state, gru_reset_shut, gru_all_gates],
    "q4": [layer_shapes, layer_zero_state],
    "q5": [tbptt_carries_state, tbptt_resets_each_epoch, tbptt_clips_global_norm],
    "q6": [adding_one_sequence, adding_trained],
    "q7": [answer_given],
}


# ---------------------------------------------------------------- example mistakes

MISTAKES = {
    "q1_ifog_gate_order": Mistake(
        "q1", "g = torch.tanh(gates[:, 2 * H:3 * H])\n    o = torch.sigmoid(gates[:, 3 * H:])",
        "o = torch.sigmoid(gates[:, 2 * H:3 * H])\n    g = torch.tanh(gates[:, 3 * H:])",
        "lstm_cell splits the gates in CS231n's order i, f, o, g", "not CS231n's i, f, o, g"),
    "q1_forget_on_candidate": Mistake(
        "q1", "next_c = f * c + i * g", "next_c = i * c + f * g",
        "lstm_cell applies the forget gate to the new candidate and the input gate to the old cell", "forget gate"),
    "q1_missing_tanh_on_cell": Mistake(
        "q1", "next_h = o * torch.tanh(next_c)", "next_h = o * next_c",
        "lstm_cell exposes the raw cell state (no tanh)", "next_h = o * tanh(next_c)"),
    "q1_delegates_to_torch": Mistake(
        "q1", "next_h = o * torch.tanh(next_c)",
        "next_h, next_c = torch.lstm_cell(x, (h, c), weight_ih, weight_hh, bias_ih, bias_hh)",
        "lstm_cell delegates to torch's own LSTM cell (not allowed)", "does not allow"),
    "q2_forget_gate_derivative": Mistake(
        "q2", "df * f * (1 - f)", "df * (1 - f ** 2)",
        "lstm_step_backward uses tanh's derivative for the forget gate", "gate f"),
    "q2_cell_path_ignores_forget": Mistake(
        "q2", "dprev_c = dc * f", "dprev_c = dc",
        "lstm_step_backward lets the cell gradient through without the forget gate", "dprev_c = dc * f"),
    "q3_paper_reset": Mistake(
        "q3", "n = torch.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])",
        "n = torch.tanh(gi[:, 2 * H:] + (r * h) @ weight_hh[2 * H:].T + bias_hh[2 * H:])",
        "gru_cell resets before the matmul (the paper's GRU)", "paper's GRU"),
    "q3_update_swapped": Mistake(
        "q3", "next_h = (1 - z) * n + z * h", "next_h = z * n + (1 - z) * h",
        "gru_cell lets z weigh the candidate instead of the old state", "1 - z swapped"),
    "q4_time_major": Mistake(
        "q4", "output = torch.stack(outputs, dim=1)", "output = torch.stack(outputs, dim=0)",
        "lstm_layer returns a time-major output (T, N, H)", "batch-first"),
    "q4_initial_state_ignored": Mistake(
        "q4", "    if state is None:\n        state = (x.new_zeros(N, H), x.new_zeros(N, H))",
        "    state = (x.new_zeros(N, H), x.new_zeros(N, H))",
        "lstm_layer always starts from zeros", "given state"),
    "q5_state_reset_every_batch": Mistake(
        "q5", "logits, state = model(x, state)  # reads on", "logits, state = model(x, None)  # reads on",
        "train_tbptt starts every batch from a zero state", "the state must carry over"),
    "q5_only_h_detached": Mistake(
        "q5", "state = tuple(s.detach() for s in state)", "state = (state[0].detach(), state[1])",
        "train_tbptt detaches h but not c", "detach both h and c"),
    "q5_state_kept_across_epochs": Mistake(
        "q5", "        state = None  # each epoch reads", "        # each epoch reads",
        "train_tbptt does not reset the state between epochs", "reset the state (None)"),
    "q5_per_parameter_clipping": Mistake(
        "q5", "torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_norm)",
        "[torch.nn.utils.clip_grad_norm_(p, config.max_norm) for p in model.parameters()]",
        "train_tbptt clips each parameter's gradient on its own", "global norm"),
    "q6_no_readout_of_last_state": Mistake(
        "q6", "return self.head(h).squeeze(-1)", "return self.head(h)",
        "AddingModel returns (N, 1) instead of one number per sequence", "should have shape (1,)"),
    "q7_input_gate": Mistake(
        "q7", "return 2", "return 1", "answers the input gate", "which factor multiplies"),
}
