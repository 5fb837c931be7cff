"""Verdict helpers a spec's hidden cases use (clean grading process only): the reference's expected
values for a case, and comparisons that say which returned value is wrong.

Every comparison is in float64 on the CPU: a student's float32 or CUDA tensor is compared after a
detached CPU copy (``autograder.kernel.flatten``), with the tolerances below.
"""

from __future__ import annotations

import numpy as np

from .cases import Case, Config, Global, Outcome, Rng
from .compare import first_wrong_step, numerical_gradient, problem

TOL = 1e-6  # float64 relative error
TOL32 = 1e-4  # float32 inputs, or a float32 CUDA kernel


def _is_tensor(value) -> bool:
    import sys

    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def reference_arg(arg, ref):
    """One case argument as the reference receives it: a fresh float64 copy (tensors on the CPU)."""
    if isinstance(arg, np.ndarray):
        return arg.astype(np.float64) if arg.dtype.kind == "f" else arg.copy()
    if _is_tensor(arg):
        import torch

        value = arg.detach().cpu().clone()
        value = value.to(torch.float64) if value.is_floating_point() else value
        return value.requires_grad_(True) if arg.requires_grad else value
    if isinstance(arg, Rng):
        return np.random.default_rng(arg.seed)
    if isinstance(arg, Config):
        return getattr(ref, arg.cls)(**arg.fields)
    if isinstance(arg, Global):
        value = getattr(ref, arg.name)
        return value.copy() if hasattr(value, "copy") else value
    if isinstance(arg, dict):
        return {k: reference_arg(np.asarray(v) if isinstance(v, (list, float, int)) else v, ref)
                for k, v in arg.items()}
    if isinstance(arg, (list, tuple)):
        return type(arg)(reference_arg(v, ref) for v in arg)
    return arg


def build_args(case: Case, ref) -> list:
    """The case's arguments as the reference should receive them (fresh copies, float64)."""
    return [reference_arg(arg, ref) for arg in case.args]


def as_numpy(value):
    """A reference output as float64 numpy (tensors detached and copied to the CPU)."""
    if _is_tensor(value):
        value = value.detach().cpu()
        return value.double().numpy() if value.is_floating_point() else value.numpy()
    return value


def memo(case: Case, key: str, compute):
    """``compute()`` once per case and batch: the expected values of a case do not depend on the
    submission, so a batch computes them for its first submission and reuses them."""
    store = case.extra.setdefault("_memo", {})
    if key not in store:
        store[key] = compute()
    return store[key]


def error(outputs) -> Outcome | None:
    """The student's code raised: that is the verdict."""
    if "error" in outputs:
        return Outcome(False, f"your code raised {outputs['error']}")
    return None


def verdict(problems: list[str | None], extra: str = "") -> Outcome:
    found = [p for p in problems if p]
    if not found:
        return Outcome(True, "correct")
    return Outcome(False, "; ".join(found) + extra)


def expected_of(case: Case, ref):
    """The reference's return value for the case (tuple items picked by ``case.keep``)."""
    expected = getattr(ref, case.fn)(*build_args(case, ref))
    if case.keep is not None:
        expected = tuple(expected[i] for i in case.keep)
    return expected if isinstance(expected, tuple) else (expected,)


def check_values(case: Case, outputs: dict, ref, names: tuple[str, ...], tol: float = TOL) -> Outcome:
    """Compare returned values (``out.0``, ``out.1``... or ``out``) with the reference's."""
    if (bad := error(outputs)) is not None:
        return bad
    expected = memo(case, "expected", lambda: expected_of(case, ref))
    keys = ["out"] if len(names) == 1 else [f"out.{i}" for i in range(len(names))]
    return verdict([problem(n, outputs.get(k), as_numpy(e), tol) for n, k, e in zip(names, keys, expected)])


def check_gradients(case: Case, outputs: dict, ref, out_name: str, grad_names: tuple[str, ...],
                    wrt: tuple[int, ...], tol: float = TOL, localise: bool = False) -> Outcome:
    """Forward output against the reference; every returned gradient against central differences of
    the reference forward (float64)."""
    if (bad := error(outputs)) is not None:
        return bad
    args = build_args(case, ref)
    forward = getattr(ref, case.fn)
    dout = np.asarray(case.dout, dtype=np.float64)

    def f():
        return forward(*args)[0]

    problems = [problem(out_name, outputs.get("out"), memo(case, "out", f), tol)]
    extra = ""
    for name, i in zip(grad_names, wrt):
        key = "grad" if len(grad_names) == 1 else f"grad.{grad_names.index(name)}"
        expected = memo(case, f"grad.{i}", lambda: numerical_gradient(f, args[i], dout))
        problems.append(problem(name, outputs.get(key), expected, max(tol, 1e-5)))
        if localise and name == "dx" and problems[-1] and outputs.get(key) is not None:
            t = first_wrong_step(outputs[key], expected, 1e-5)
            if t is not None:
                extra = (f" (walking back from t = T-1 = {expected.shape[1] - 1}, dx is first wrong at "
                         f"t = {t}: look at what flows into step {t} from step {t + 1})")
    return verdict(problems, extra)


def over_budget(case: Case, outputs: dict) -> Outcome | None:
    """A call that took longer than ``case.extra["budget_s"]`` (e.g. a backward computed by finite
    differences of the forward, where an analytic one takes milliseconds) fails, whatever it returned."""
    budget = case.extra.get("budget_s")
    if budget is None:
        return None
    seconds = outputs.get("seconds")
    if seconds is None:
        return Outcome(False, "the call's time was not captured")
    if float(seconds) > budget:
        return Outcome(False, f"the call took {float(seconds):.1f} s, over its budget of {budget:g} s: an analytic "
                              f"backward takes milliseconds here (finite differences of the forward do not count)")
    return None


def check_against_reference_backward(case: Case, outputs: dict, ref, out_name: str, grad_names: tuple[str, ...],
                                     tol: float = 1e-5) -> Outcome:
    """Forward output and every gradient against the reference's forward/backward pair (which the tests
    check against finite differences): for cases too large for differencing within the budget."""
    if (bad := error(outputs)) is not None or (bad := over_budget(case, outputs)) is not None:
        return bad

    def expected():
        args = build_args(case, ref)
        out, cache = getattr(ref, case.fn)(*args)
        return out, getattr(ref, case.bwd)(np.asarray(case.dout, dtype=np.float64), cache)

    out, grads = memo(case, "fwd_bwd", expected)
    problems = [problem(out_name, outputs.get("out"), out, TOL)]
    problems += [problem(name, outputs.get(f"grad.{i}"), g, tol) for i, (name, g) in enumerate(zip(grad_names, grads))]
    return verdict(problems)
