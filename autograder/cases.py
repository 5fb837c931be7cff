"""Hidden test cases: instructor inputs, how the kernel must call the student's code, and the verdict.

A hidden test is split in two, so that nothing the student's kernel does can change a verdict:

* the **capture** (``autograder.kernel``) runs inside the student's kernel. It receives the
  instructor inputs (``manifest.json`` + ``inputs.npz``), calls the student's functions, and writes
  their raw outputs as plain arrays to ``<question>.npz``;
* the **verdict** (``Case.check``) runs in the clean grading process. It loads those arrays
  (``allow_pickle=False``), recomputes the expected values from the reference solution, and decides.

Argument specs a case may use (all serialisable without pickle):
``np.ndarray`` (stored in inputs.npz), ``torch.Tensor`` (stored as its values; rebuilt in the kernel
on the grading device with the same dtype and ``requires_grad``), ``int``/``float``/``bool``/``str``
(stored in JSON), ``Rng(seed)`` (a fresh ``np.random.default_rng(seed)`` in the kernel),
``Global(name)`` (a global of the student's notebook, e.g. ``CORPUS_IDS``), ``Config(cls, fields)``
(``env[cls](**fields)`` in the kernel), and ``dict``/``list``/``tuple`` of these (a state dict, a batch).
An argument of any other type is refused when the batch is prepared, with the case's name.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

MANIFEST = "manifest.json"
INPUTS = "inputs.npz"


@dataclass(frozen=True)
class Rng:
    """A numpy Generator created in the kernel as ``np.random.default_rng(seed)``."""

    seed: int


@dataclass(frozen=True)
class Config:
    """An instance of the notebook's config dataclass ``cls`` built with ``fields``."""

    cls: str
    fields: dict


@dataclass(frozen=True)
class Global:
    """A global of the student's notebook (given code, e.g. the corpus), passed as it is there."""

    name: str


@dataclass
class Outcome:
    """The verdict of one hidden case: full points if ``passed``, else none."""

    passed: bool
    message: str


@dataclass
class Case:
    """One hidden test case.

    ``call`` is ``"call"`` (record ``fn(*args)``) or ``"fwd_bwd"`` (``out, cache = fn(*args)``,
    then record ``out`` and ``bwd(dout, cache)``). ``patch`` names student functions replaced by
    the reference during the call, so that a question is graded independently of the others.
    ``check(case, outputs, reference) -> Outcome`` runs in the clean process; ``outputs`` maps
    ``"out"``/``"out.0"``/``"grad.2"``... to arrays, or holds ``"error"`` if the call raised.
    """

    id: str
    question: str
    points: float
    describe: str  # student-facing: what this case exercises, never how it is checked
    fn: str
    args: list
    check: Callable[["Case", dict, Any], Outcome]
    call: str = "call"
    bwd: str | None = None
    dout: np.ndarray | None = None
    patch: tuple[str, ...] = ()
    keep: tuple[int, ...] | None = None  # for "call": keep only these items of a returned tuple
    extra: dict = field(default_factory=dict)  # verdict-side data (tolerances, targets)
    origin: str = field(default="", compare=False)  # "file:line" where the spec created the case

    def __post_init__(self):
        if not self.origin:
            import sys

            frame = sys._getframe(2)  # the spec line that called Case(...)
            self.origin = f"{frame.f_code.co_filename}:{frame.f_lineno}"


class SpecError(ValueError):
    """An instructor's case the grader cannot ship or check (raised before any submission is graded)."""


def _is_tensor(value) -> bool:
    import sys

    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def _arg_spec(case_id: str, key: str, arg, arrays: dict) -> dict:
    if isinstance(arg, np.ndarray):
        if arg.dtype.kind not in "biuf":
            raise SpecError(f"case {case_id}: argument {key} is an array of dtype {arg.dtype}, which cannot be "
                            f"shipped without pickle")
        arrays[f"{case_id}/{key}"] = arg
        return {"kind": "array", "key": f"{case_id}/{key}"}
    if _is_tensor(arg):
        from .kernel import tensor_to_numpy

        arrays[f"{case_id}/{key}"] = tensor_to_numpy(arg)
        return {"kind": "tensor", "key": f"{case_id}/{key}", "dtype": str(arg.dtype).removeprefix("torch."),
                "requires_grad": bool(arg.requires_grad)}
    if isinstance(arg, Rng):
        return {"kind": "rng", "seed": arg.seed}
    if isinstance(arg, Config):
        return {"kind": "config", "cls": arg.cls, "fields": arg.fields}
    if isinstance(arg, Global):
        return {"kind": "global", "name": arg.name}
    if isinstance(arg, dict):
        if all(isinstance(v, np.ndarray) for v in arg.values()):  # the plain form: a dict of arrays
            keys = {}
            for name, value in arg.items():
                arrays[f"{case_id}/{key}/{name}"] = value
                keys[name] = f"{case_id}/{key}/{name}"
            return {"kind": "dict", "keys": keys}
        return {"kind": "dict", "items": {str(name): _arg_spec(case_id, f"{key}/{name}", value, arrays)
                                          for name, value in arg.items()}}
    if isinstance(arg, (list, tuple)):
        return {"kind": type(arg).__name__,
                "items": [_arg_spec(case_id, f"{key}.{j}", value, arrays) for j, value in enumerate(arg)]}
    if isinstance(arg, (bool, int, float, str)):
        return {"kind": "value", "value": arg}
    raise SpecError(f"case {case_id}: argument {key} of type {type(arg).__name__} cannot be shipped "
                    f"(arrays, tensors, numbers, strings, Rng, Config, Global, and dicts/lists of them can)")


def manifest_and_arrays(assignment: str, cases: list[Case], forbidden: dict | None = None) -> tuple[dict, dict]:
    """The JSON manifest and the arrays the kernel needs to call the student's functions.
    ``forbidden``: the spec's FORBIDDEN (per question, names the student's calls must not reach)."""
    arrays: dict[str, np.ndarray] = {}
    entries = []
    for case in cases:
        entry = {"id": case.id, "question": case.question, "call": case.call, "fn": case.fn,
                 "bwd": case.bwd, "patch": list(case.patch),
                 "keep": None if case.keep is None else list(case.keep),
                 "budget_s": case.extra.get("budget_s"),
                 "forbidden": list((forbidden or {}).get(case.question, ())),  # seconds the call may take (its time is captured)
                 "args": [_arg_spec(case.id, f"arg{i}", a, arrays) for i, a in enumerate(case.args)]}
        if case.dout is not None and isinstance(case.dout, np.ndarray):
            arrays[f"{case.id}/dout"] = case.dout
            entry["dout"] = f"{case.id}/dout"
        elif case.dout is not None:
            entry["dout"] = _arg_spec(case.id, "dout", case.dout, arrays)
        entries.append(entry)
    return {"assignment": assignment, "cases": entries}, arrays


def read_outputs(path: Path) -> dict[str, dict[str, np.ndarray]]:
    """Load a kernel's ``<question>.npz`` safely: ``{case_id: {"out.0": array, ...}}``.

    Only plain (non-object) arrays are accepted; anything else is reported as an error of its case.
    """
    grouped: dict[str, dict[str, np.ndarray]] = {}
    try:
        data = np.load(path, allow_pickle=False)
        with data:
            for key in data.files:
                case_id, _, name = key.partition("/")
                try:
                    grouped.setdefault(case_id, {})[name] = data[key]
                except ValueError as exc:  # object arrays need pickle: refused
                    grouped.setdefault(case_id, {})["error"] = np.array(f"unreadable output {name}: {exc}")
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        return {"__file__": {"error": np.array(f"unreadable capture file: {exc}")}}
    return grouped


def outputs_to_bytes(outputs: dict[str, np.ndarray]) -> bytes:
    """Serialise flat outputs to npz bytes (used by the kernel and by tests)."""
    buffer = io.BytesIO()
    np.savez(buffer, **outputs)
    return buffer.getvalue()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees either the old file or the whole new one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
