"""The reference implementation of an assignment, taken from its solution notebook.

The solution notebook is the only place the answers are written. This module executes the
notebook's library cells (nbgrader ids ending in ``-solution`` or ``-given``) in a fresh
namespace, so the clean grading process and the tests use exactly the published answers.
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


def library_cells(nb) -> list[str]:
    """Sources of the cells that define functions and data (not checks, not demos)."""
    out = []
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if cell.cell_type == "code" and gid.endswith(LIBRARY_SUFFIXES):
            out.append(cell.source)
    return out


def load_module(path: Path) -> types.ModuleType:
    """Execute the library cells of the notebook at ``path`` as a module named ``reference_<stem>``."""
    nb = nbformat.read(path, as_version=4)
    module = types.ModuleType(f"reference_{path.stem}")
    module.__file__ = str(path)
    sys.modules[module.__name__] = module  # dataclasses look their module up here
    env = module.__dict__
    env.update(np=np, dataclass=dataclasses.dataclass, field=dataclasses.field)
    for source in library_cells(nb):
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
