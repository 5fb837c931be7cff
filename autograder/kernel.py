"""Kernel side of a hidden test: call the student's functions on instructor inputs and save the raw outputs.

This is the only grading code that runs inside the student's kernel. It decides nothing: it writes
what the student's functions returned (or the exception they raised) to
``$RECURRENT_CAPTURE_OUT/<question>.npz``; the clean grading process reads the arrays back without
pickle and computes every verdict (see ``autograder.cases``). Without ``RECURRENT_CAPTURE_IN`` set
it raises, so that an engine run outside the pipeline scores nothing instead of everything.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path

import numpy as np

IN_ENV, OUT_ENV = "RECURRENT_CAPTURE_IN", "RECURRENT_CAPTURE_OUT"
_REFERENCES: dict[str, object] = {}


def _reference(path: str):
    if path not in _REFERENCES:
        from .reference import load_module

        _REFERENCES[path] = load_module(Path(path))
    return _REFERENCES[path]


@contextmanager
def _patched(env: dict, names: list[str], reference):
    """Replace the named student functions by the reference ones for the duration of one call."""
    saved = {name: env.get(name, _MISSING) for name in names}
    try:
        for name in names:
            env[name] = getattr(reference, name)
        yield
    finally:
        for name, value in saved.items():
            if value is _MISSING:
                env.pop(name, None)
            else:
                env[name] = value


_MISSING = object()


def _build_arg(spec: dict, arrays, env: dict):
    kind = spec["kind"]
    if kind == "array":
        return np.array(arrays[spec["key"]])  # a private copy: the student may modify it in place
    if kind == "value":
        return spec["value"]
    if kind == "rng":
        return np.random.default_rng(spec["seed"])
    if kind == "dict":
        return {name: np.array(arrays[key]) for name, key in spec["keys"].items()}
    if kind == "config":
        return env[spec["cls"]](**spec["fields"])
    raise ValueError(f"unknown argument kind {kind!r}")


def flatten(value, prefix: str, out: dict) -> None:
    """Store ``value`` as plain arrays under ``prefix`` (tuples/lists by index, dicts by key).

    A list or tuple of plain numbers (e.g. a list of losses) becomes one array.
    """
    if isinstance(value, dict):
        for key, item in value.items():
            flatten(item, f"{prefix}.{key}", out)
        return
    if isinstance(value, (tuple, list)) and not all(isinstance(v, (int, float, np.number)) for v in value):
        for i, item in enumerate(value):
            flatten(item, f"{prefix}.{i}", out)
        return
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):
        array = None
    if array is not None and array.dtype.kind in "biuf":
        out[prefix] = np.array(array)
    else:
        out[prefix + ".type"] = np.array(type(value).__name__)


def run_case(case: dict, arrays, env: dict, reference) -> dict:
    """Call the student's code for one case; return flat outputs (or an ``error`` entry)."""
    out: dict = {}
    with _patched(env, case["patch"], reference):
        fn = env.get(case["fn"])
        if not callable(fn):
            return {"error": np.array(f"NameError: function {case['fn']} is not defined")}
        args = [_build_arg(spec, arrays, env) for spec in case["args"]]
        if case["call"] == "fwd_bwd":
            forward_out, cache = fn(*args)
            flatten(forward_out, "out", out)
            flatten(env[case["bwd"]](np.array(arrays[case["dout"]]), cache), "grad", out)
        else:
            result = fn(*args)
            if case["keep"] is not None:  # e.g. only next_h of (next_h, cache)
                result = tuple(result[i] for i in case["keep"])
                result = result[0] if len(result) == 1 else result
            flatten(result, "out", out)
    return out


def _public_results(path: Path, env: dict) -> list[dict]:
    """Run the student-facing self-check file with otter (advice for the feedback, never a verdict)."""
    try:
        from otter.test_files import ExceptionTestFile

        test_file = ExceptionTestFile.from_file(str(path))
        test_file.run(env)
        return [{"name": r.test_case.name, "passed": bool(r.passed), "message": str(r.message)[:2000]}
                for r in test_file.test_case_results]
    except Exception as exc:
        return [{"name": path.stem, "passed": False, "message": f"self-check could not run: {exc}"[:2000]}]


def capture(question: str, env: dict) -> None:
    """Run every hidden case of ``question`` against ``env`` (the notebook's globals); save outputs."""
    in_dir, out_dir = os.environ.get(IN_ENV), os.environ.get(OUT_ENV)
    if not in_dir or not out_dir:
        # Run by a bare `nbgrader autograde` / `otter run` / Gradescope: fail loudly, so that nobody
        # gets the points of a hidden test that decided nothing.
        raise RuntimeError(f"hidden tests only capture outputs: grade with `python -m autograder grade` "
                           f"({IN_ENV} and {OUT_ENV} are not set)")
    manifest = json.loads((Path(in_dir) / "manifest.json").read_text())
    arrays = np.load(Path(in_dir) / "inputs.npz", allow_pickle=False)
    results: dict[str, np.ndarray] = {}
    for case in manifest["cases"]:
        if case["question"] != question:
            continue
        try:
            reference = _reference(manifest["reference_notebook"]) if case["patch"] else None
            outputs = run_case(case, arrays, env, reference)
        except Exception as exc:  # the student's exception is an outcome, not a crash
            outputs = {"error": np.array(f"{type(exc).__name__}: {str(exc)[:300]}")}
        for name, value in outputs.items():
            results[f"{case['id']}/{name}"] = value
    public_dir = manifest.get("public_tests_dir")
    if public_dir and (Path(public_dir) / f"{question}.py").exists():
        for i, record in enumerate(_public_results(Path(public_dir) / f"{question}.py", env)):
            results[f"__public__/{i}"] = np.array(json.dumps(record))
    target = Path(out_dir) / f"{question}.npz"
    tmp = target.with_name(f".{target.name}.tmp")
    with open(tmp, "wb") as handle:
        np.savez(handle, **results)
    os.replace(tmp, target)
