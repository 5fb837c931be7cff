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


def training_names(nb) -> set[str]:
    """The names the training cells assign at their top level (the student's trained model...), which
    the reference does not hold."""
    import ast

    names: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type == "code" and is_training(cell):
            for node in ast.walk(ast.parse(cell.source)):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    names.add(node.id)
    return names


def load_module(path: Path, training: bool = False) -> types.ModuleType:
    """Execute the library cells of the notebook at ``path`` as a module named ``reference_<stem>``
    (with its training cells too when ``training``: the release records self-checks of a trained model)."""
    nb = nbformat.read(path, as_version=4)
    module = types.ModuleType(f"reference_{path.stem}" + ("_trained" if training else ""))
    module.__file__ = str(path)
    sys.modules[module.__name__] = module  # dataclasses look their module up here
    env = module.__dict__
    env.update(np=np, dataclass=dataclasses.dataclass, field=dataclasses.field)
    for source in library_cells(nb, training=training):
        exec(compile(source, str(path), "exec"), env)
    return module


def load(assignment: str, training: bool = False) -> types.ModuleType:
    """The reference namespace of ``assignment`` (cached until its notebook changes; do not mutate it)."""
    from .assignments import get

    path = get(assignment).notebook
    return _load(str(path), path.stat().st_mtime_ns, training)


@lru_cache(maxsize=None)
def _load(path: str, stamp: int, training: bool) -> types.ModuleType:
    return load_module(Path(path), training)


load.cache_clear = _load.cache_clear
