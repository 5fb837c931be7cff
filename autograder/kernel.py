"""Kernel side of a hidden test: call the student's functions on instructor inputs and save the raw outputs.

This is the only grading code that runs inside the student's kernel. It decides nothing: it writes
what the student's functions returned (or the exception they raised) to
``$RECURRENT_CAPTURE_OUT/<question>.npz``; the clean grading process reads the arrays back without
pickle and computes every verdict (see ``autograder.cases``). Without ``RECURRENT_CAPTURE_IN`` set
it raises, so that an engine run outside the pipeline scores nothing instead of everything.

No solution code reaches the kernel. Where a question depends on earlier functions (``rnn_forward``
calls ``rnn_step_forward``), those are replaced during the call by a *substitute*: a table of the
reference's outputs for exactly the calls a correct implementation makes, precomputed in the clean
process (``autograder.substitutes``). Each entry is found by a hash of the call's arguments and
encrypted with a key derived from them, so the table reveals an output only to code that presents its
inputs; a call that is not in the table runs the student's own function.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from . import forbidden as _forbidden

IN_ENV, OUT_ENV = "RECURRENT_CAPTURE_IN", "RECURRENT_CAPTURE_OUT"
SUBSTITUTES = "substitutes.npz"


class CaptureError(Exception):
    """The grader could not capture a value (its own failure, or an instructor's case it cannot ship):
    reported as a grader error with this message, never as "your code raised"."""


def _torch():
    """torch if the kernel has imported it (a student value can only be a tensor then), else None."""
    import sys

    return sys.modules.get("torch")


def _is_tensor(value) -> bool:
    torch = _torch()
    return torch is not None and isinstance(value, torch.Tensor)


def _is_module(value) -> bool:
    torch = _torch()
    return torch is not None and isinstance(value, torch.nn.Module)


def tensor_to_numpy(tensor) -> np.ndarray:
    """A detached CPU copy of ``tensor`` as a numpy array with the same dtype (bfloat16, which numpy
    lacks, becomes float32: every bfloat16 value is exactly a float32)."""
    torch = _torch()
    value = tensor.detach().cpu()
    if value.dtype == torch.bfloat16:
        value = value.to(torch.float32)
    if value.is_complex() or value.dtype not in _NUMPY_DTYPES(torch):
        raise CaptureError(f"cannot capture a tensor of dtype {tensor.dtype}")
    return value.numpy().copy()


def _NUMPY_DTYPES(torch):
    return {torch.float16, torch.float32, torch.float64, torch.int8, torch.int16, torch.int32, torch.int64,
            torch.uint8, torch.bool}


def device() -> str:
    """The device the grader asked for (``RECURRENT_DEVICE``: cpu, cuda, auto) as a torch device name."""
    wanted = os.environ.get("RECURRENT_DEVICE", "cpu")
    if wanted == "auto":
        torch = _torch() or __import__("torch")
        return "cuda" if torch.cuda.is_available() else "cpu"
    return wanted


class CacheToken:
    """Stands for the cache a substituted forward function returned; only its backward accepts it."""

    __slots__ = ("id",)

    def __init__(self, id: str):
        self.id = id

    def __repr__(self) -> str:
        return f"CacheToken({self.id[:8]})"


def canonical(value, out: list) -> None:
    """Append deterministic bytes for a call argument to ``out``. Floats are rounded to float32 (and
    -0.0 to 0.0), so that a correct implementation that sums in another order still finds its entry."""
    if isinstance(value, CacheToken):
        out.append(b"T" + value.id.encode())
    elif _is_tensor(value):  # keyed like the array it holds: a detached CPU copy, dtype kept
        canonical(tensor_to_numpy(value), out)
    elif _is_module(value):
        canonical(dict(value.state_dict()), out)
    elif isinstance(value, np.ndarray) or isinstance(value, np.generic):
        array = np.asarray(value)
        header = f"A{array.dtype.str}{array.shape}".encode()
        if array.dtype.kind == "f":
            array = array.astype(np.float32) + np.float32(0.0)
        elif array.dtype.kind not in "biu":
            raise TypeError(f"cannot key an array of dtype {array.dtype}")
        out.append(header + np.ascontiguousarray(array).tobytes())
    elif isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        out.append(f"S{type(value).__name__}:{value!r}".encode())
    elif isinstance(value, float):
        canonical(np.float64(value), out)
    elif isinstance(value, (tuple, list)):
        out.append(f"L{type(value).__name__}{len(value)}".encode())
        for item in value:
            canonical(item, out)
    elif isinstance(value, dict):
        out.append(f"D{len(value)}".encode())
        for key in sorted(value, key=str):
            canonical(str(key), out)
            canonical(value[key], out)
    else:
        raise TypeError(f"cannot key an argument of type {type(value).__name__}")


def call_key(name: str, args: tuple) -> bytes:
    """Secret of one call: derived from the function name and its arguments only."""
    parts: list = [name.encode()]
    canonical(args, parts)
    digest = hashlib.sha256()
    for part in parts:
        digest.update(struct.pack("<Q", len(part)) + part)
    return digest.digest()


def entry_id(key: bytes) -> str:
    return hashlib.sha256(b"id" + key).hexdigest()


def crypt(key: bytes, data: bytes) -> bytes:
    """XOR with a keystream derived from ``key`` (encrypts and decrypts)."""
    stream = np.frombuffer(hashlib.shake_256(b"stream" + key).digest(len(data)), dtype=np.uint8)
    return (np.frombuffer(data, dtype=np.uint8) ^ stream).tobytes()


def decode(blob: bytes):
    """Inverse of ``autograder.substitutes.encode``: JSON structure + an npz of its arrays, no pickle."""
    size = struct.unpack("<Q", blob[:8])[0]
    structure = json.loads(blob[8:8 + size].decode())
    arrays = np.load(io.BytesIO(blob[8 + size:]), allow_pickle=False)

    def build(node):
        kind = node["t"]
        if kind == "array":
            array = arrays[node["k"]]
            return array[()] if array.ndim == 0 else np.array(array)
        if kind == "tensor":
            import torch

            return torch.tensor(np.array(arrays[node["k"]]), dtype=getattr(torch, node["dtype"]), device=device())
        if kind == "token":
            return CacheToken(node["id"])
        if kind in ("tuple", "list"):
            items = [build(item) for item in node["items"]]
            return tuple(items) if kind == "tuple" else items
        if kind == "dict":
            return {key: build(item) for key, item in node["items"]}
        return node["v"]

    return build(structure)


class Substitutes:
    """Kernel side of the substitute table: ``wrap(name, student_fn)`` gives the function to use."""

    def __init__(self, path: Path):
        self._data = np.load(path, allow_pickle=False) if Path(path).exists() else None

    def lookup(self, name: str, args: tuple):
        if self._data is None:
            return _MISSING
        try:
            key = call_key(name, args)
        except TypeError:
            return _MISSING
        ident = entry_id(key)
        if ident not in self._data.files:
            return _MISSING
        return decode(crypt(key, self._data[ident].tobytes()))

    def wrap(self, name: str, own):
        def substitute(*args):
            found = self.lookup(name, args)
            if found is not _MISSING:
                return found
            if any(isinstance(a, CacheToken) for a in args):
                raise ValueError(f"{name}: the cache came from the reference {name.replace('backward', 'forward')} "
                                 f"but these inputs differ from a correct implementation's")
            if not callable(own):
                raise NameError(f"function {name} is not defined")
            return own(*args)

        substitute.__name__ = name
        return substitute


@contextmanager
def _patched(env: dict, names: list[str], reference):
    """Replace the named student functions for the duration of one call: by ``reference.wrap``
    (a ``Substitutes`` table) in the kernel, or by the reference module's own functions in tests."""
    saved = {name: env.get(name, _MISSING) for name in names}
    try:
        for name in names:
            own = saved[name] if saved[name] is not _MISSING else None
            served = reference.wrap(name, own) if hasattr(reference, "wrap") else getattr(reference, name)
            env[name] = _forbidden.unwatched(served)  # what a substitute runs is not the student's call
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
    if kind == "tensor":  # on the grading device, with the instructor's dtype and requires_grad
        import torch

        value = torch.tensor(np.array(arrays[spec["key"]]), dtype=getattr(torch, spec["dtype"]), device=device())
        return value.requires_grad_(True) if spec.get("requires_grad") else value
    if kind == "value":
        return spec["value"]
    if kind == "rng":
        return np.random.default_rng(spec["seed"])
    if kind == "dict":
        if "items" in spec:
            return {name: _build_arg(item, arrays, env) for name, item in spec["items"].items()}
        return {name: np.array(arrays[key]) for name, key in spec["keys"].items()}
    if kind in ("list", "tuple"):
        items = [_build_arg(item, arrays, env) for item in spec["items"]]
        return items if kind == "list" else tuple(items)
    if kind == "config":
        return env[spec["cls"]](**spec["fields"])
    if kind == "global":  # a value the notebook defined (e.g. its corpus)
        return env.get(spec["name"])
    raise CaptureError(f"unknown argument kind {kind!r}")


def flatten(value, prefix: str, out: dict) -> None:
    """Store ``value`` as plain arrays under ``prefix`` (tuples/lists by index, dicts by key).

    A list or tuple of plain numbers (e.g. a list of losses) becomes one array.
    Torch tensors (any dtype, requires_grad, any device) are stored as detached CPU copies with their
    dtype kept, an ``nn.Module`` as its state dict. Anything else that is not numeric is recorded by
    its type name, so that the verdict can say what came back instead of an array.
    """
    if _is_module(value):
        value = dict(value.state_dict())
    if _is_tensor(value):
        out[prefix] = tensor_to_numpy(value)
        return
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
    except (ValueError, TypeError, RuntimeError):
        array = None
    if array is not None and array.dtype.kind in "biuf":
        out[prefix] = np.array(array)
    else:
        out[prefix + ".type"] = np.array(type(value).__name__)


def _student_error(exc: BaseException) -> dict:
    return {"error": np.array(f"{type(exc).__name__}: {str(exc)[:300]}")}


class _NoWatch:
    hit = None

    @contextmanager
    def watching(self):
        yield self


def _watch(case: dict, env: dict, graded: list[str]):
    """The profile watch for one case's call, and the outputs of a static forbidden hit (else ``None``)."""
    names = case.get("forbidden") or ()
    if not names:
        return _NoWatch(), None
    functions = [env[name] for name in graded if callable(env.get(name))]
    mentioned = set().union(*(_forbidden.mentioned_modules(fn, env, case["patch"]) for fn in functions))
    try:
        targets = _forbidden.Targets(names, import_missing=False, mentioned=mentioned)
    except _forbidden.ForbiddenNameError as exc:
        raise CaptureError(f"FORBIDDEN name of {case['question']} does not resolve in the kernel: {exc}") from exc
    for name, fn in zip(graded, functions):
        hit = _forbidden.static_hit(fn, env, targets, case["patch"])
        if hit is not None:
            return None, {"forbidden": np.array(_forbidden.message(name, hit, case["question"]))}
    return _forbidden.Watch(targets), None


def run_case(case: dict, arrays, env: dict, reference) -> dict:
    """Call the student's code for one case; return flat outputs (or an ``error`` entry if the student's
    code raised). A value the grader cannot capture raises ``CaptureError`` (a grader error)."""
    out: dict = {}
    if case["call"] == "global":  # a value the notebook computed (e.g. a model it trained): no call
        if case["fn"] not in env:
            return {"error": np.array(f"NameError: {case['fn']} is not defined")}
        flatten(env[case["fn"]], "out", out)
        return out
    with _patched(env, case["patch"], reference):
        fn = env.get(case["fn"])
        if not callable(fn):
            return {"error": np.array(f"NameError: function {case['fn']} is not defined")}
        graded = [case["fn"]] + ([case["bwd"]] if case["call"] == "fwd_bwd" else [])
        watch, hit = _watch(case, env, graded)
        if hit is not None:
            return hit
        args = [_build_arg(spec, arrays, env) for spec in case["args"]]
        phase = case["fn"]
        try:
            with watch.watching():
                if case["call"] == "fwd_bwd":
                    forward_out, cache = fn(*args)
                    phase = case["bwd"]
                    dout = _build_arg(case["dout"], arrays, env) if isinstance(case["dout"], dict) \
                        else np.array(arrays[case["dout"]])
                    start = time.perf_counter()
                    grads = env[case["bwd"]](dout, cache)
                    seconds = time.perf_counter() - start  # the backward alone (a per-call budget may apply)
                else:
                    start = time.perf_counter()
                    result = fn(*args)
                    seconds = time.perf_counter() - start
                    if case["keep"] is not None:  # e.g. only next_h of (next_h, cache)
                        result = tuple(result[i] for i in case["keep"])
                        result = result[0] if len(result) == 1 else result
        except Exception as exc:  # the student's exception is an outcome, not a crash
            if watch.hit is not None:
                return {"forbidden": np.array(_forbidden.message(phase, watch.hit, case["question"]))}
            return _student_error(exc)
        if watch.hit is not None:
            return {"forbidden": np.array(_forbidden.message(phase, watch.hit, case["question"]))}
    if case.get("budget_s") is not None:
        out["seconds"] = np.array(seconds)
    try:
        if case["call"] == "fwd_bwd":
            flatten(forward_out, "out", out)
            flatten(grads, "grad", out)
        else:
            flatten(result, "out", out)
    except CaptureError:
        raise
    except Exception as exc:  # e.g. a tensor on a device that cannot be read back
        raise CaptureError(f"could not capture the output of {case['fn']}: {type(exc).__name__}: {exc}") from exc
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
    substitutes = None
    for case in manifest["cases"]:
        if case["question"] != question:
            continue
        try:
            if case["patch"] and substitutes is None:
                substitutes = Substitutes(Path(in_dir) / SUBSTITUTES)
            outputs = run_case(case, arrays, env, substitutes)
        except CaptureError as exc:  # the grader's failure: an instructor message, retried by the next run
            outputs = {"grader_error": np.array(f"case {case['id']}: {str(exc)[:300]}")}
        except Exception as exc:  # raised while building the student's inputs or calling their code
            outputs = _student_error(exc)
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
