"""The similarity report (autograder.similarity, on copydetect) on a small made-up class of A1.

ana hands in the reference answers; ben copies them and renames every variable; cy hands in the blank
release; dee answered only questions 1-3 and eve only 4-7 (both with the reference's code, so they
share no answer). The report must flag ana-ben whatever the names, see nothing in the code every
student was given, not flag dee-eve, and show the flagged pairs side by side.
"""

from __future__ import annotations

import ast
import csv
import io
import re
import tokenize
from pathlib import Path

import nbformat
import pytest

from autograder.similarity import DEFAULT_THRESHOLD, similarity, solution_code

ROOT = Path(__file__).resolve().parents[1]
RELEASE = ROOT / "assignments" / "a1" / "a1.ipynb"
SOLUTION = ROOT / "solutions" / "a1" / "a1.ipynb"


def _answers() -> dict[str, str]:
    marker = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")
    return {gid: "\n".join(line for line in src.splitlines() if not marker.match(line))
            for gid, src in solution_code(SOLUTION).items()}


def _rename(source: str) -> str:
    """Every name the code assigns (arguments, locals, loop variables) renamed, as a copier would."""
    assigned = {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)
                and isinstance(node.ctx, ast.Store)}
    assigned |= {a.arg for node in ast.walk(ast.parse(source)) if isinstance(node, ast.arguments)
                 for a in node.args + node.kwonlyargs}
    mapping = {name: f"my_var{i}" for i, name in enumerate(sorted(assigned))}
    tokens = [(t.type, mapping.get(t.string, t.string) if t.type == tokenize.NAME else t.string)
              for t in tokenize.generate_tokens(io.StringIO(source).readline)]
    return tokenize.untokenize(tokens)


def _student(folder: Path, name: str, answers: dict[str, str]) -> Path:
    nb = nbformat.read(RELEASE, as_version=4)
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("similarity")
    answers = _answers()
    order = list(answers)
    assert len(order) == 7, f"A1 has 7 solution cells, found {order}"
    renamed = {g: _rename(s) for g, s in answers.items()}
    assert all("my_var" in renamed[g] and renamed[g] != answers[g] for g in order), "the renaming did nothing"
    class_ = {
        "ana": _student(folder, "ana", answers),
        "ben": _student(folder, "ben", renamed),
        "cy": _student(folder, "cy", {}),
        "dee": _student(folder, "dee", {g: answers[g] for g in order[:3]}),
        "eve": _student(folder, "eve", {g: answers[g] for g in order[3:]}),
    }
    out = folder / "out"
    pairs = similarity(class_, RELEASE, out)
    return {frozenset((p.a, p.b)): p for p in pairs}, out


def test_renamed_copy_is_flagged(report):
    pairs, _ = report
    assert pairs[frozenset(("ana", "ben"))].similarity > 0.9


def test_given_code_is_not_similarity(report):
    pairs, _ = report
    for other in ("ana", "ben", "dee", "eve"):
        assert pairs[frozenset(("cy", other))].similarity == 0, f"the blank release looks like {other}'s answers"


def test_disjoint_answers_are_not_flagged_and_a_partial_copy_is(report):
    pairs, _ = report
    assert pairs[frozenset(("dee", "eve"))].similarity < DEFAULT_THRESHOLD
    partial = pairs[frozenset(("ana", "dee"))]
    share_of_dee = partial.similarity_b if partial.a == "ana" else partial.similarity_a
    assert share_of_dee > 0.9, "all of dee's answers are ana's, which the report must say"


def test_files_written(report):
    pairs, out = report
    rows = list(csv.DictReader(open(out / "similarity.csv")))
    assert len(rows) == len(pairs) == 10
    assert [float(r["similarity"]) for r in rows] == sorted((float(r["similarity"]) for r in rows), reverse=True)
    flagged = {frozenset((r["student_a"], r["student_b"])) for r in rows if r["flagged"] == "yes"}
    assert flagged == {k for k, p in pairs.items() if p.similarity > DEFAULT_THRESHOLD}
    page = (out / "similarity.html").read_text()
    assert "ana.py" in page and "ben.py" in page and "highlight-red" in page
    assert "solution cells only" in page


def test_needs_two_submissions(tmp_path):
    with pytest.raises(ValueError, match="at least two"):
        similarity({"solo": RELEASE}, RELEASE, tmp_path)
