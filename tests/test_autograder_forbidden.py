"""Forbidden calls (autograder.forbidden): a graded function that delegates to the package earns nothing."""

import textwrap

import numpy as np
import pytest

from autograder import forbidden
from autograder.checks import run_checks
from autograder.kernel import run_case
from autograder.scoring import score_question
from autograder.spec import Case, Outcome

NAMES = ["utils.rnn.rnn_step_forward", "torch.nn.RNNCell", "utils.clip"]

NOTEBOOK = textwrap.dedent('''
    import numpy as np
    import utils.clip as clipping

    def rnn_step_forward(x, prev_h, W_ih, W_hh, b_ih, b_hh):
        next_h = np.tanh(x @ W_ih.T + b_ih + prev_h @ W_hh.T + b_hh)
        return next_h, (x, prev_h, W_ih, W_hh, next_h)

    def delegates(x, prev_h, W_ih, W_hh, b_ih, b_hh):
        import utils.rnn
        return utils.rnn.rnn_step_forward(x, prev_h, W_ih, W_hh, b_ih, b_hh)

    def hides_the_watch(x, prev_h, W_ih, W_hh, b_ih, b_hh):
        import sys
        sys.setprofile(None)
        from utils.rnn import rnn_step_forward as step
        return step(x, prev_h, W_ih, W_hh, b_ih, b_hh)

    def by_getattr(x, prev_h, W_ih, W_hh, b_ih, b_hh):
        import importlib
        return getattr(importlib.import_module("utils" + ".rnn"), "rnn_step_" + "forward")(x, prev_h, W_ih, W_hh,
                                                                                            b_ih, b_hh)

    def through_a_helper(x, prev_h, W_ih, W_hh, b_ih, b_hh):
        return _helper(x, prev_h, W_ih, W_hh, b_ih, b_hh)

    def _helper(*args):
        import torch
        cell = torch.nn.RNNCell(args[0].shape[1], args[1].shape[1], dtype=torch.float64)
        return cell(torch.tensor(args[0]), torch.tensor(args[1])).detach().numpy(), None

    def clips(grads, max_norm):
        return clipping.clip_by_global_norm(list(grads.values()), max_norm)

    def calls_own_step(x, prev_h, W_ih, W_hh, b_ih, b_hh):
        return rnn_step_forward(x, prev_h, W_ih, W_hh, b_ih, b_hh)
''')


@pytest.fixture()
def env():
    namespace: dict = {}
    exec(compile(NOTEBOOK, "<notebook>", "exec"), namespace)
    return namespace


def _arrays():
    rng = np.random.default_rng(0)
    return {"x": rng.standard_normal((2, 3)), "h": rng.standard_normal((2, 4)), "wi": rng.standard_normal((4, 3)),
            "wh": rng.standard_normal((4, 4)), "bi": rng.standard_normal(4), "bh": rng.standard_normal(4)}


def _case(fn, names=NAMES, patch=()):
    return {"id": "c", "question": "q1", "call": "call", "fn": fn, "bwd": None, "patch": list(patch),
            "keep": [0], "budget_s": None, "forbidden": list(names),
            "args": [{"kind": "array", "key": k} for k in ("x", "h", "wi", "wh", "bi", "bh")]}


@pytest.mark.parametrize("fn, name", [("delegates", "utils.rnn.rnn_step_forward"),
                                      ("hides_the_watch", "utils.rnn.rnn_step_forward"),
                                      ("by_getattr", "utils.rnn.rnn_step_forward"),
                                      ("through_a_helper", "torch.nn.RNNCell")])
def test_a_delegating_function_is_caught(env, fn, name):
    out = run_case(_case(fn), _arrays(), env, None)
    assert "forbidden" in out, out
    assert str(out["forbidden"]) == (f"`{fn}` calls `{name}`, which question 1 does not allow: "
                                     f"write the computation yourself")


def test_own_code_and_an_unlisted_question_pass(env):
    assert "out" in run_case(_case("rnn_step_forward"), _arrays(), env, None)
    assert "out" in run_case(_case("calls_own_step"), _arrays(), env, None)  # same name as the package's
    assert "out" in run_case(_case("delegates", names=()), _arrays(), env, None)


def test_calls_inside_a_substitute_do_not_count(env):
    class Reference:  # serves rnn_step_forward from the package, as a grader substitute would
        @staticmethod
        def wrap(name, own):
            import utils.rnn
            return utils.rnn.rnn_step_forward

    out = run_case(_case("calls_own_step", patch=("rnn_step_forward",)), _arrays(), env, Reference())
    assert "out" in out, out


def test_a_module_means_every_function_in_it(env):
    case = {"id": "c", "question": "q5", "call": "call", "fn": "clips", "bwd": None, "patch": [], "keep": None,
            "budget_s": None, "forbidden": ["utils.clip"],
            "args": [{"kind": "dict", "keys": {"a": "x"}}, {"kind": "value", "value": 0.5}]}
    out = run_case(case, _arrays(), env, None)
    assert str(out["forbidden"]).startswith("`clips` calls `utils.clip`, which question 5 does not allow")


def test_the_verdict_loses_the_case_with_the_message():
    case = Case("q1.c", "q1", 1.0, "a case", "f", [], lambda c, o, r: Outcome(True, "ok"))
    result = score_question("q1", 1.0, [case], {"q1.c": {"forbidden": np.array("`f` calls `x`")}}, None)
    assert result.score == 0.0 and result.cases[0].message == "`f` calls `x`"


def test_resolve_names_a_bad_name():
    with pytest.raises(forbidden.ForbiddenNameError, match="utils.rnn has no attribute 'no_such'"):
        forbidden.resolve("utils.rnn.no_such")
    with pytest.raises(forbidden.ForbiddenNameError, match="no module 'nosuchpackage'"):
        forbidden.resolve("nosuchpackage.f")


def test_the_self_check_says_it_before_any_check(env):
    def check(delegates):
        assert False, "not reached"

    with pytest.raises(AssertionError, match=r"^`delegates` calls `utils.rnn.rnn_step_forward`, which question 1"):
        run_checks("q1", [check], {"check": []}, env, tuple(NAMES), ("delegates",))


def test_the_watch_costs_little(env):
    """The profile hook on a loop of small numpy calls (A1's budget case is a loop like it)."""
    import time

    fn = env["rnn_step_forward"]
    args = [_arrays()[k] for k in ("x", "h", "wi", "wh", "bi", "bh")]
    watch = forbidden.Watch(forbidden.Targets(NAMES))

    def loop():
        start = time.perf_counter()
        for _ in range(3000):
            fn(*args)
        return time.perf_counter() - start

    bare = min(loop() for _ in range(3))
    with watch.watching():
        watched = min(loop() for _ in range(3))
    assert watch.hit is None
    assert watched < 3 * bare + 0.05, (bare, watched)


@pytest.mark.engine
@pytest.mark.notebook
def test_a1_delegating_submission_loses_exactly_q1_under_both_engines(tmp_path):
    """The example mistake q1_delegates_to_utils: right numbers, but rnn_step_forward calls the package."""
    from autograder import assignments, examples, notebooks
    from autograder.grade import GradeConfig, grade_batch
    from autograder.sandbox import Limits

    mistake = assignments.get("a1").mistakes["q1_delegates_to_utils"]
    subs = tmp_path / "submissions"
    subs.mkdir()
    notebooks.write(examples.with_mistake(examples.solved("a1"), "d", mistake.old, mistake.new),
                    subs / "delegates.ipynb")
    scores = {}
    for backend in ("nbgrader", "otter"):
        config = GradeConfig("a1", subs, tmp_path / backend, backend, "cpu", jobs=1, limits=Limits(wall_s=300))
        (result,) = grade_batch(config, progress=lambda msg: None)
        assert result.status == "ok", result.reason
        scores[backend] = result.scores()
        q1 = next(q for q in result.questions if q.question == "q1")
        assert all("`rnn_step_forward` calls `utils.rnn.rnn_step_forward`, which question 1 does not allow"
                   in c.message for c in q1.cases), [c.message for c in q1.cases]
    assert scores["nbgrader"] == scores["otter"] == {**assignments.get("a1").questions, "q1": 0.0}


def test_preflight_names_a_forbidden_name_that_does_not_resolve_and_a_reference_that_calls_one(monkeypatch):
    from autograder import assignments, preflight

    spec = assignments.get("a1").spec
    monkeypatch.setattr(spec, "FORBIDDEN", {"q1": ("utils.rnn.no_such_function",), "q5": ("numpy.sqrt",)})
    found = "\n".join(preflight.problems("a1"))
    assert "solutions/a1/spec.py" in found
    assert "FORBIDDEN['q1'] names utils.rnn.no_such_function: utils.rnn has no attribute 'no_such_function'" in found
    assert "the reference's clip_grad_norm calls numpy.sqrt, which FORBIDDEN['q5'] forbids" in found


def test_the_release_writes_the_names_into_the_self_check():
    from autograder import assignments, reference
    from autograder.public import render

    text = render("a1", "q5", assignments.get("a1").spec, reference.load("a1"))
    assert "FORBIDDEN = ('utils.clip', " in text and "GRADED = ('clip_grad_norm',)" in text
    assert 'run_checks("q5", CHECKS, EXPECTED, env, FORBIDDEN, GRADED)' in text
