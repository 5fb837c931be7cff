"""The reference implementation of an assignment, taken from its solution notebook.

The solution notebook is the only place the answers are written. This module executes the
notebook's library cells (nbgrader ids ending in ``-solution`` or ``-given``) in a fresh
namespace, so the clean grading process and the tests use exactly the published answers.

A *training cell* (id ending in ``-train-given``: the notebook trains the student's model with the student's
code, ``model = train(...)``) is a library cell for a student's namespace, but the reference skips it: a
verdict scores the student's trained model on fresh data and never needs a trained reference, so loading
the reference (once per grading process, and in release and pre-flight) does not pay for a training run.
"""

from __future__ import annotations

import dataclasses
import sys
import types
from functools import lru_cache
from pathlib import Path

import nbformat
import numpy as np


LIBRARY_SUFFIXES = ("-solution", "-given")
TRAINING_SUFFIX = "-train-given"


def grade_id(cell) -> str:
    return cell.metadata.get("nbgrader", {}).get("grade_id", "")


def library_cells(nb, training: bool = True) -> list[str]:
    """Sources of the cells that define functions and data (not checks, not demos); with
    ``training=False``, without the training cells."""
    out = []
    for cell in nb.cells:
        gid = grade_id(cell)
        if cell.cell_type == "code" and gid.endswith(LIBRARY_SUFFIXES) and (training or not is_training(cell)):
            out.append(cell.source)
    return out


def is_training(cell) -> bool:
    return grade_id(cell).endswith(TRAINING_SUFFIX)


def load_module(path: Path) -> types.ModuleType:
    """Execute the library cells of the notebook at ``path`` as a module named ``reference_<stem>``."""
    nb = nbformat.read(path, as_version=4)
    module = types.ModuleType(f"reference_{path.stem}")
    module.__file__ = str(path)
    sys.modules[module.__name__] = module  # dataclasses look their module up here
    env = module.__dict__
    env.update(np=np, dataclass=dataclasses.dataclass, field=dataclasses.field)
    for source in library_cells(nb, training=False):
        exec(compile(source, str(path), "exec"), env)
    return module


def load(assignment: str) -> types.ModuleType:
    """The reference namespace of ``assignment`` (cached until its notebook changes; do not mutate it)."""
    from .assignments import get

    path = get(assignment).notebook
    return _load(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=None)
def _load(path: str, stamp: int) -> types.ModuleType:
    return load_module(Path(path))


load.cache_clear = _load.cache_clear
