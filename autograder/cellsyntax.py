"""Syntax errors in a submission's cells, found in the clean grading process.

A cell that does not compile runs nothing, so every function it defines is missing and the hidden tests
report ``NameError: function embedding_forward is not defined``: true, but it sends the student looking
for the wrong mistake. ``find(nb)`` compiles every code cell as IPython would (magics and ``!`` lines
transformed first); ``explain(result, errors)`` rewrites the "is not defined" verdicts of names such a
cell defines into "syntax error in cell N (grade id), line L: ..." and adds one note per broken cell.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

NOT_DEFINED = re.compile(r"NameError: (?:function )?(\w+) is not defined")


@dataclass
class CellSyntaxError:
    cell: int  # 1-based position in the notebook (markdown cells counted, as Jupyter shows them)
    grade_id: str | None  # nbgrader's id of the cell, e.g. "q3-solution"
    line: int | None  # line within the cell
    message: str  # Python's message, e.g. "invalid syntax" or "expected ':'"
    defines: set  # names the cell would have defined (best effort: def/class/assignment lines)

    @property
    def where(self) -> str:
        return f"cell {self.cell}" + (f" ({self.grade_id})" if self.grade_id else "")

    def describe(self) -> str:
        line = f", line {self.line}" if self.line else ""
        return f"syntax error in {self.where}{line}: {self.message}"


_DEFINES = re.compile(r"^\s*(?:async\s+)?(?:def|class)\s+(\w+)|^(\w+)\s*(?::[^=]*)?=(?!=)", re.M)


def find(nb) -> list[CellSyntaxError]:
    """Every code cell of ``nb`` that does not compile."""
    from IPython.core.inputtransformer2 import TransformerManager

    transformer = TransformerManager()
    errors = []
    for index, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        try:
            source = transformer.transform_cell(cell.source)
        except Exception:  # IPython cannot even transform it: compile the raw source
            source = cell.source
        try:
            ast.parse(source, filename=f"cell {index}")
        except SyntaxError as exc:
            names = {a or b for a, b in _DEFINES.findall(cell.source)}
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            errors.append(CellSyntaxError(index, grade_id, exc.lineno, exc.msg, names))
        except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, absurd nesting
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            errors.append(CellSyntaxError(index, grade_id, None, f"{type(exc).__name__}: {exc}", set()))
    return errors


def explain(result, errors: list[CellSyntaxError]) -> None:
    """Name the syntax error where a verdict says a name the broken cell defines is not defined; one
    note per broken cell. ``result`` is a ``SubmissionResult``, changed in place."""
    if not errors:
        return
    for q in result.questions:
        for case in q.cases:
            match = None if case.passed else NOT_DEFINED.search(case.message)
            if match is None:
                continue
            name = match.group(1)
            culprit = next((e for e in errors if name in e.defines), None)
            if culprit is not None:
                case.message = (f"{culprit.describe()}: the cell did not run, so {name} was never defined. "
                                "Fix the syntax and run the cell again (Kernel > Restart & Run All).")
    for e in errors:
        result.notes.append(f"{e.describe()}: nothing in that cell ran")
