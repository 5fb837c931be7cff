"""Notebook helpers shared by release and grading: read/write normalised notebooks, find regions."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
SOLUTION_RE = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
HIDDEN_RE = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)


def read(path: Path):
    return nbformat.read(path, as_version=4)


def normalise(nb):
    """Outputs stripped, execution counts cleared, standard kernelspec, minimal notebook metadata."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
        cell.metadata.pop("collapsed", None)
        cell.metadata.pop("scrolled", None)
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nb


def write(nb, path: Path) -> None:
    nbformat.validate(nb)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")


def grade_id(cell) -> str:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")


def solution_regions(nb) -> list[str]:
    """The text between every ``### BEGIN SOLUTION`` / ``### END SOLUTION`` pair."""
    return [m.group(1) for cell in nb.cells for m in SOLUTION_RE.finditer(cell.source)]


def hidden_regions(nb) -> list[str]:
    return [m.group(1) for cell in nb.cells for m in HIDDEN_RE.finditer(cell.source)]


STUB_RE = re.compile(r"^([ \t]*)# YOUR CODE HERE\n\1raise NotImplementedError\(\)\n", re.M)


def fill_solutions(student_nb, source_nb):
    """The student notebook with each ``raise NotImplementedError()`` stub replaced by the source's solution.

    Used to build example submissions: the result looks exactly like a student's completed notebook.
    Stubs may sit at any indentation (nbgrader indents them like the ``### BEGIN SOLUTION`` marker,
    e.g. inside a method of an ``nn.Module``); each solution line keeps its own indentation.
    """
    nb = copy.deepcopy(student_nb)
    by_id = {grade_id(c): c for c in source_nb.cells if grade_id(c)}
    for cell in nb.cells:
        source = by_id.get(grade_id(cell))
        if source is None or "YOUR CODE HERE" not in cell.source:
            continue
        answers = [m.group(1) for m in SOLUTION_RE.finditer(source.source)]
        stubs = list(STUB_RE.finditer(cell.source))
        if len(stubs) != len(answers):
            raise ValueError(f"cell {grade_id(cell)}: {len(stubs)} stubs for {len(answers)} solutions")
        answers = iter(answers)
        # the region ends with the END marker's indentation, which the stub's line start replaces
        cell.source = STUB_RE.sub(lambda m: next(answers).rstrip(" \t"), cell.source)
    return nb
