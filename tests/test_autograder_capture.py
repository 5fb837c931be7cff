"""Torch-ready capture: tensors (any dtype, requires_grad) are captured as detached CPU copies with
their dtype, modules as state dicts, substitutes are keyed and served as tensors, and what cannot be
captured is a grader error for the instructor, never "your code raised"."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autograder.cases import Case, Outcome, SpecError, manifest_and_arrays
from autograder.kernel import CaptureError, call_key, capture, flatten, run_case
from autograder.scoring import GRADER_ERROR, score_question


def test_tensors_are_detached_cpu_copies_with_their_dtype():
    out = {}
    x = torch.ones(2, 3, requires_grad=True) * 2  # a non-leaf that requires grad
    flatten((x, torch.arange(3), torch.ones(2, dtype=torch.bfloat16), torch.zeros(1, dtype=torch.float16)),
            "out", out)
    assert out["out.0"].dtype == np.float32 and np.all(out["out.0"] == 2)
    assert out["out.1"].dtype == np.int64
    assert out["out.2"].dtype == np.float32  # bfloat16 has no numpy dtype: widened exactly
    assert out["out.3"].dtype == np.float16


def test_a_module_is_captured_as_its_state_dict():
    out = {}
    flatten(torch.nn.Linear(3, 2), "out", out)
    assert set(out) == {"out.weight", "out.bias"} and out["out.weight"].shape == (2, 3)


def test_call_keys_accept_tensors_and_match_the_array_they_hold():
    a = torch.linspace(0, 1, 6, dtype=torch.float64).reshape(2, 3)
    assert call_key("f", (a.requires_grad_(True),)) == call_key("f", (a.detach().numpy().copy(),))
    assert call_key("f", (torch.nn.Linear(2, 2),)) != call_key("f", (torch.nn.Linear(2, 2),))


def test_tensor_arguments_arrive_as_tensors_with_dtype_and_grad():
    seen = {}

    def f(x, w, params):
        seen.update(x=x, w=w, params=params)
        return x.double() @ w.T

    case = Case("c", "q1", 1.0, "", "f", [torch.ones(2, 3, dtype=torch.float32),
                                           torch.ones(4, 3, dtype=torch.float64, requires_grad=True),
                                           {"a": torch.zeros(2), "n": 3}], lambda *a: Outcome(True, ""))
    manifest, arrays = manifest_and_arrays("t", [case])
    out = run_case(manifest["cases"][0], arrays, {"f": f}, None)
    assert seen["x"].dtype == torch.float32 and seen["w"].requires_grad and seen["w"].dtype == torch.float64
    assert isinstance(seen["params"]["a"], torch.Tensor) and seen["params"]["n"] == 3
    assert out["out"].shape == (2, 4) and out["out"].dtype == np.float64


def test_an_argument_that_cannot_be_shipped_is_refused_with_the_case_name():
    case = Case("q1.bad", "q1", 1.0, "", "f", [object()], lambda *a: Outcome(True, ""))
    with pytest.raises(SpecError, match="q1.bad"):
        manifest_and_arrays("t", [case])


def test_a_value_the_grader_cannot_capture_is_a_grader_error(tmp_path, monkeypatch):
    """A complex tensor (no capture for it) is the grader's failure: the case says so, never 'your code raised'."""
    case = Case("q1.c", "q1", 1.0, "complex output", "f", [], lambda *a: Outcome(True, ""))
    manifest, arrays = manifest_and_arrays("t", [case])
    with pytest.raises(CaptureError):
        run_case(manifest["cases"][0], arrays, {"f": lambda: torch.zeros(2, dtype=torch.complex64)}, None)

    import json
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "manifest.json").write_text(json.dumps(manifest))
    np.savez(tmp_path / "in" / "inputs.npz", **arrays)
    monkeypatch.setenv("RECURRENT_CAPTURE_IN", str(tmp_path / "in"))
    monkeypatch.setenv("RECURRENT_CAPTURE_OUT", str(tmp_path))
    capture("q1", {"f": lambda: torch.zeros(2, dtype=torch.complex64)})
    from autograder.cases import read_outputs

    captured = read_outputs(tmp_path / "q1.npz")
    result = score_question("q1", 1.0, [case], captured, None)
    assert result.score == 0 and result.cases[0].message.startswith(GRADER_ERROR)
    assert "raised" not in result.cases[0].message.split("(")[0]


def test_the_students_exception_is_their_outcome():
    case = Case("q1.e", "q1", 1.0, "", "f", [], lambda *a: Outcome(True, ""))
    manifest, arrays = manifest_and_arrays("t", [case])

    def f():
        raise ValueError("boom")

    assert "ValueError: boom" in str(run_case(manifest["cases"][0], arrays, {"f": f}, None)["error"])
