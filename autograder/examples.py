"""Example submissions, generated on demand (never committed): the reference, the blank release, and
one notebook per mistake of the spec (``MISTAKES``).

Built from the committed student release exactly as a student would complete it (solutions pasted where
the stubs are), so both engines see realistic submissions. ``python -m autograder examples aN --out DIR``
writes them; the tests and benchmarks build them into a temporary folder.
"""

from __future__ import annotations

from pathlib import Path

from . import assignments, notebooks


def mistakes(assignment: str) -> dict:
    """``{name: Mistake(question, old, new, what)}`` of ``assignment``'s spec."""
    return assignments.get(assignment).mistakes


def solved(assignment: str):
    """The student release with every stub replaced by the reference solution."""
    a = assignments.get(assignment)
    return notebooks.fill_solutions(notebooks.read(a.student_notebook), notebooks.read(a.notebook))


def with_mistake(nb, name: str, old: str, new: str):
    hits = [cell for cell in nb.cells
            if cell.cell_type == "code" and old in cell.source and "YOUR CODE" not in cell.source]
    if len(hits) != 1 or hits[0].source.count(old) != 1:
        raise ValueError(f"mistake {name}: the text to replace must occur exactly once")
    hits[0].source = hits[0].source.replace(old, new)
    return nb


def build_examples(assignment: str, out_dir: Path) -> list[Path]:
    """Write ``reference.ipynb``, ``blank.ipynb`` and one notebook per mistake into ``out_dir``."""
    a = assignments.get(assignment)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    reference = solved(assignment)
    written = []
    for name, nb in [("reference", reference), ("blank", notebooks.read(a.student_notebook))]:
        notebooks.write(nb, out_dir / f"{name}.ipynb")
        written.append(out_dir / f"{name}.ipynb")
    for name, mistake in a.mistakes.items():
        nb = with_mistake(notebooks.read(out_dir / "reference.ipynb"), name, mistake.old, mistake.new)
        notebooks.write(nb, out_dir / f"{name}.ipynb")
        written.append(out_dir / f"{name}.ipynb")
    return written
