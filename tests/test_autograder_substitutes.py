"""The substitute table: the kernel gets the reference's outputs for a correct implementation's calls,
and nothing else (no solution code, no readable expected outputs). No kernel is started here."""

from __future__ import annotations

import json

import numpy as np
import pytest

from autograder import assignments, reference
from autograder.inputs import write_inputs
from autograder.kernel import SUBSTITUTES, CacheToken, Substitutes, _patched, call_key

REF = reference.load("a1")
CASES = assignments.get("a1").spec.hidden_cases(REF)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    directory = tmp_path_factory.mktemp("inputs")
    write_inputs(directory, "a1", CASES, REF)
    return directory


def _q2_args():
    case = next(c for c in CASES if c.id == "q2.forward")
    return case, [np.array(a) for a in case.args]


def test_inputs_hold_no_solution(inputs):
    manifest = json.loads((inputs / "manifest.json").read_text())
    assert "reference_notebook" not in manifest
    blob = b"".join(p.read_bytes() for p in inputs.iterdir())
    assert b"BEGIN SOLUTION" not in blob and b"def rnn_step_forward" not in blob and b"np.tanh" not in blob


def test_expected_outputs_are_not_readable(inputs):
    """The graded output of q2.forward (h) appears nowhere in the files, in any byte order or dtype."""
    case, args = _q2_args()
    h, _ = REF.rnn_forward(*args)
    blob = b"".join(p.read_bytes() for p in inputs.iterdir())
    for t in range(h.shape[1]):
        row = np.ascontiguousarray(h[:, t])
        for dtype in (np.float64, np.float32):
            assert row.astype(dtype).tobytes() not in blob


def test_a_correct_loop_gets_the_reference_steps_and_others_run_their_own(inputs):
    case, args = _q2_args()
    subs = Substitutes(inputs / SUBSTITUTES)
    own_calls = []

    def own_step(*a):
        own_calls.append(a)
        return np.zeros((a[1].shape[0], a[3].shape[0])), "own cache"

    env = {"rnn_step_forward": own_step}
    with _patched(env, ["rnn_step_forward"], subs):
        step = env["rnn_step_forward"]
        x, h0, W_ih, W_hh, b_ih, b_hh = args
        prev_h, hs = h0, []
        for t in range(x.shape[1]):
            prev_h, cache = step(x[:, t, :], prev_h, W_ih, W_hh, b_ih, b_hh)
            hs.append(prev_h)
        assert not own_calls, "a correct loop must be served by the table"
        assert np.allclose(np.stack(hs, axis=1), REF.rnn_forward(*args)[0], atol=1e-12)
        step(x[:, 0, :] + 1.0, h0, W_ih, W_hh, b_ih, b_hh)  # not a call a correct implementation makes
        assert len(own_calls) == 1
    assert env["rnn_step_forward"] is own_step  # restored after the call


def test_keys_tolerate_rounding_but_not_other_inputs():
    a = np.linspace(0.1, 1, 12).reshape(3, 4)
    assert call_key("f", (a,)) == call_key("f", (np.nextafter(a, 2.0),))  # one ulp: another summation order
    assert call_key("f", (a,)) == call_key("f", (np.asfortranarray(a),))
    assert call_key("f", (a,)) != call_key("f", (a + 1e-3,))
    assert call_key("f", (a,)) != call_key("g", (a,))
    assert call_key("f", (CacheToken("x"),)) != call_key("f", (CacheToken("y"),))


def test_torch_values_are_served_back_as_tensors(tmp_path):
    """A substituted function of a torch assignment answers with a tensor of the same dtype."""
    import torch

    from autograder.cases import Case, Outcome
    from autograder.kernel import decode
    from autograder.substitutes import encode

    value = (torch.ones(2, 3, dtype=torch.float32), {"w": torch.zeros(2, dtype=torch.float64)})
    back = decode(encode(value))
    assert isinstance(back[0], torch.Tensor) and back[0].dtype == torch.float32
    assert back[1]["w"].dtype == torch.float64

    class Ref:
        def inner(self, x):
            return x * 2

    ref = Ref()
    ns = type("NS", (), {})()
    ns.inner = lambda x: x * 2
    ns.outer = lambda x: ns.inner(x) + 1
    case = Case("c", "q2", 1.0, "", "outer", [torch.ones(3, dtype=torch.float64)], lambda *a: Outcome(True, ""),
                patch=("inner",))
    write_inputs(tmp_path, "t", [case], ns)
    subs = Substitutes(tmp_path / SUBSTITUTES)
    served = subs.lookup("inner", (torch.ones(3, dtype=torch.float64),))
    assert isinstance(served, torch.Tensor) and torch.equal(served, torch.full((3,), 2.0, dtype=torch.float64))
