"""Clean side of the substitutes: the reference's outputs for the calls a correct implementation makes.

A dependent question is graded on its own: while ``rnn_forward`` is captured, ``rnn_step_forward`` must
behave like the reference. Instead of giving the kernel the solution, the clean process runs each such
case with the reference, records every call its code makes to a substituted function (outermost calls
only: those the student's code would make), and writes a table ``substitutes.npz``:

* entry name: a hash of a key derived from the function name and its arguments (``kernel.call_key``);
* entry data: the outputs (``encode``: JSON structure + npz, no pickle) encrypted with that key.

The kernel (``kernel.Substitutes``) can open an entry only by presenting the same arguments, so the file
reveals nothing about a case whose inputs the code does not already hold, and it cannot be turned back
into solution code. A forward function's cache is replaced by a ``CacheToken`` that only the matching
backward entry accepts, which also keeps the table small.
"""

from __future__ import annotations

import io
import json
import struct
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .cases import Case, Config, Global, Rng
from .kernel import SUBSTITUTES, CacheToken, _is_tensor, call_key, crypt, entry_id, tensor_to_numpy


def encode(value) -> bytes:
    """Serialise an output (arrays, numbers, tuples, lists, dicts, cache tokens) without pickle."""
    arrays: dict[str, np.ndarray] = {}

    def walk(node):
        if isinstance(node, CacheToken):
            return {"t": "token", "id": node.id}
        if _is_tensor(node):  # served back as a tensor on the kernel's device, same dtype
            key = f"a{len(arrays)}"
            arrays[key] = tensor_to_numpy(node)
            return {"t": "tensor", "k": key, "dtype": str(node.dtype).removeprefix("torch.")}
        if isinstance(node, (np.ndarray, np.generic)):
            key = f"a{len(arrays)}"
            arrays[key] = np.asarray(node)
            return {"t": "array", "k": key}
        if isinstance(node, (tuple, list)):
            return {"t": type(node).__name__, "items": [walk(item) for item in node]}
        if isinstance(node, dict):
            return {"t": "dict", "items": [[key, walk(item)] for key, item in node.items()]}
        if node is None or isinstance(node, (bool, int, float, str)):
            return {"t": "value", "v": node}
        raise TypeError(f"cannot ship an output of type {type(node).__name__}")

    structure = json.dumps(walk(value)).encode()
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return struct.pack("<Q", len(structure)) + structure + buffer.getvalue()


TOKEN_BYTES = 64 * 1024  # caches larger than this are served as tokens


def _nbytes(node) -> int:
    if isinstance(node, (np.ndarray, np.generic)):
        return np.asarray(node).nbytes
    if isinstance(node, (tuple, list)):
        return sum(_nbytes(item) for item in node)
    if isinstance(node, dict):
        return sum(_nbytes(item) for item in node.values())
    return 8


def _tokenise(name: str, key: bytes, result, caches: dict):
    """A forward function's (out, cache): keep ``out``; a large cache (``rnn_forward``'s list of every
    step's cache, in the training question) is replaced by a token, a small one is served as is (so
    that code reading a step cache, e.g. ``cache[0][2].shape``, works as with the reference)."""
    if (name.endswith("_forward") and isinstance(result, tuple) and len(result) == 2
            and _nbytes(result[1]) > TOKEN_BYTES):
        token = CacheToken(entry_id(b"cache" + key))
        caches[token.id] = result[1]
        return (result[0], token)
    return result


def _untokenise(args: tuple, caches: dict) -> tuple:
    return tuple(caches[a.id] if isinstance(a, CacheToken) else a for a in args)


@contextmanager
def _recording(ref, names, table: dict, caches: dict):
    """Wrap the reference's functions ``names`` so that outermost calls are recorded in ``table``."""
    env = ref.__dict__
    saved = {name: env[name] for name in names}
    depth = [0]

    def recorder(name, fn):
        def wrapped(*args):
            if depth[0]:
                return fn(*_untokenise(args, caches))
            depth[0] += 1
            try:
                result = fn(*_untokenise(args, caches))
            finally:
                depth[0] -= 1
            try:
                key = call_key(name, args)
            except TypeError:  # an argument that cannot be keyed: the kernel will run the student's own
                return result
            served = _tokenise(name, key, result, caches)
            table[entry_id(key)] = np.frombuffer(crypt(key, encode(served)), dtype=np.uint8)
            return served

        return wrapped

    try:
        for name in names:
            env[name] = recorder(name, saved[name])
        yield
    finally:
        env.update(saved)


def _arg(value, ref):
    """A case argument as the kernel builds it (same dtypes: the substitute keys depend on them)."""
    if isinstance(value, Global):
        value = getattr(ref, value.name)
        return value.copy() if hasattr(value, "copy") else value
    if _is_tensor(value):
        return value.detach().clone().requires_grad_(value.requires_grad)
    if isinstance(value, Rng):
        return np.random.default_rng(value.seed)
    if isinstance(value, Config):
        return getattr(ref, value.cls)(**value.fields)
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _arg(v, ref) if not isinstance(v, np.ndarray) else np.array(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_arg(v, ref) for v in value)
    return value


def record(cases: list[Case], ref) -> dict[str, np.ndarray]:
    """Run every case that substitutes functions with the reference; return the encrypted table."""
    table: dict[str, np.ndarray] = {}
    for case in cases:
        if not case.patch:
            continue
        caches: dict = {}
        with _recording(ref, case.patch, table, caches):
            fn = getattr(ref, case.fn)
            args = [_arg(a, ref) for a in case.args]
            if case.call == "fwd_bwd":
                _, cache = fn(*args)
                getattr(ref, case.bwd)(np.array(case.dout), cache)
            else:
                fn(*args)
    return table


def write_substitutes(directory: Path, cases: list[Case], ref) -> Path:
    path = Path(directory) / SUBSTITUTES
    np.savez(path, **record(cases, ref))
    return path
