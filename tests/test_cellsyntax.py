"""A syntax error in a student's cell is reported as a syntax error in that cell, not as the
"NameError: function ... is not defined" the hidden tests see (autograder.cellsyntax)."""

from __future__ import annotations

import nbformat
import pytest

from autograder import cellsyntax
from autograder.results import CaseResult, QuestionResult, SubmissionResult


def notebook(*cells):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A1")])
    for grade_id, source in cells:
        cell = nbformat.v4.new_code_cell(source)
        if grade_id:
            cell.metadata["nbgrader"] = {"grade_id": grade_id, "solution": True, "grade": False, "locked": False}
        nb.cells.append(cell)
    return nb


BROKEN = "def embedding_forward(x, W):\n    out = W[x]\n    return out)\n"


def test_the_broken_cell_is_found_with_its_line_and_grade_id():
    nb = notebook(("q2-solution", "%matplotlib inline\nimport numpy as np\n!echo magics are fine\n"),
                  ("q3-solution", BROKEN), (None, "def ok():\n    return 1\n"))
    [error] = cellsyntax.find(nb)
    assert (error.cell, error.grade_id, error.line) == (3, "q3-solution", 3)
    assert "embedding_forward" in error.defines and error.describe().startswith("syntax error in cell 3 (q3-solution), line 3: ")


def test_the_name_error_verdict_becomes_a_syntax_error_naming_the_cell():
    nb = notebook(("q3-solution", BROKEN))
    message = "your code raised NameError: function embedding_forward is not defined"
    other = "your code raised NameError: function rnn_forward is not defined"
    result = SubmissionResult("ann", "a1", "nbgrader", "ok", "", 1.0, [QuestionResult("q3", 0.0, 1.0, [
        CaseResult("q3.small", "a small batch", 0.5, False, message),
        CaseResult("q3.other", "another function", 0.5, False, other)])])
    cellsyntax.explain(result, cellsyntax.find(nb))
    first, second = result.questions[0].cases
    assert first.message.startswith("syntax error in cell 2 (q3-solution), line 3: ")
    assert first.message.endswith(": the cell did not run, so embedding_forward was never defined. Fix the syntax "
                                  "and run the cell again (Kernel > Restart & Run All).")
    assert "NameError" not in first.message and second.message == other  # not defined there: left as it was
    assert result.notes == [f"{cellsyntax.find(nb)[0].describe()}: nothing in that cell ran"]


def test_a_notebook_that_compiles_changes_nothing():
    nb = notebook(("q3-solution", "def embedding_forward(x, W):\n    return W[x]\n"))
    assert cellsyntax.find(nb) == []


@pytest.mark.engine
@pytest.mark.notebook
def test_a_syntax_error_is_reported_end_to_end(tmp_path, examples):
    """The reference submission with one unbalanced parenthesis in q3's cell, graded by nbgrader."""
    from autograder.grade import GradeConfig, grade_batch
    from autograder.sandbox import Limits

    nb = nbformat.read(examples("a1") / "reference.ipynb", as_version=4)
    index, cell = next((i, c) for i, c in enumerate(nb.cells, start=1)
                       if c.metadata.get("nbgrader", {}).get("grade_id") == "q3-solution")
    assert "def embedding_forward" in cell.source
    cell.source = cell.source.replace("def embedding_forward(x, W):", "def embedding_forward(x, W)", 1)
    (tmp_path / "subs").mkdir()
    nbformat.write(nb, tmp_path / "subs" / "ann.ipynb")
    [result] = grade_batch(GradeConfig("a1", tmp_path / "subs", tmp_path / "out", limits=Limits(wall_s=300)),
                           progress=lambda line: None)
    q3 = next(q for q in result.questions if q.question == "q3")
    assert result.status == "ok" and q3.score == 0 and q3.cases
    for case in q3.cases:
        assert case.message.startswith(f"syntax error in cell {index} (q3-solution), line 1: "), case.message
        assert "so embedding_forward was never defined" in case.message and "NameError" not in case.message
    assert any(note.startswith(f"syntax error in cell {index} (q3-solution)") for note in result.notes)
