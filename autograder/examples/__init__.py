"""Example submissions (committed fixtures): the reference, the blank release, and one-mistake variants.

Built from the student notebook exactly as a student would complete it (solutions pasted where the
stubs are), so both engines see realistic submissions. ``python -m autograder release`` rebuilds them.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from .. import notebooks


def mistakes(assignment: str) -> dict:
    """``{name: (question, old, new, what)}`` for ``assignment``."""
    return importlib.import_module(f"autograder.examples.{assignment}.mistakes").MISTAKES


def build_examples(assignment: str, student_notebook: Path, solution_notebook: Path, out_dir: Path) -> list[Path]:
    """Write ``reference.ipynb``, ``blank.ipynb`` and one notebook per mistake into ``out_dir``."""
    student = notebooks.read(student_notebook)
    solved = notebooks.fill_solutions(student, notebooks.read(solution_notebook))
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, nb in [("reference", solved), ("blank", student)]:
        notebooks.write(nb, out_dir / f"{name}.ipynb")
        written.append(out_dir / f"{name}.ipynb")
    for name, (_, old, new, _) in mistakes(assignment).items():
        nb = notebooks.read(out_dir / "reference.ipynb")
        hits = [cell for cell in nb.cells if old in cell.source and "YOUR CODE" not in cell.source]
        if len(hits) != 1 or hits[0].source.count(old) != 1:
            raise ValueError(f"mistake {name}: the text to replace must occur exactly once")
        hits[0].source = hits[0].source.replace(old, new)
        notebooks.write(nb, out_dir / f"{name}.ipynb")
        written.append(out_dir / f"{name}.ipynb")
    return written
