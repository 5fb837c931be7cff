"""One rule for tampered instructor cells, the same under nbgrader and otter: put them back.

Before any engine runs, every cell the instructor owns (nbgrader metadata with ``locked`` or
``grade``: given code, self-check calls, hidden-test cells, question text) is compared, by
``grade_id``, with the released student notebook:

* a deleted one is re-inserted after the instructor cell that precedes it in the release;
* a locked cell whose source was edited gets the release's source back;
* edited nbgrader metadata (``points``, ``grade_id``, ``locked``, ``grade``, ``solution``, checksum)
  is restored from the release, on answer cells too (their source stays the student's).

Each repair is recorded as a note in the student's feedback. Scores never come from cell metadata
anyway (points are in ``solutions/<aN>/spec.py``), so a repaired notebook is graded like an
untouched one, and nbgrader never meets a cell it cannot match with its gradebook.
"""

from __future__ import annotations

import copy

import nbformat


def _gid(cell) -> str | None:
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta.get("grade_id") if isinstance(meta, dict) else None


def _owned(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("locked") or meta.get("grade") or meta.get("solution"))


def restore_instructor_cells(nb, release) -> list[str]:
    """Repair ``nb`` in place against the ``release`` notebook; return one note per repair."""
    notes: list[str] = []
    reference = [c for c in release.cells if _gid(c) and _owned(c)]
    wanted = {_gid(c) for c in reference}
    present = {_gid(c) for c in nb.cells}
    # A cell whose grade_id was renamed or removed is recognised by its cell id (nbformat 4.5).
    by_cell_id = {c.get("id"): c for c in reference if c.get("id") and _gid(c) not in present}
    for cell in nb.cells:
        ref_cell = by_cell_id.get(cell.get("id"))
        if ref_cell is not None and _gid(cell) != _gid(ref_cell):
            cell.metadata["nbgrader"] = copy.deepcopy(ref_cell.metadata["nbgrader"])
            notes.append(f"the grading metadata of {_gid(ref_cell)} was edited: restored")
            del by_cell_id[cell.get("id")]
    # A cell carrying an instructor grade_id it does not own (a copy, or an invented id) loses the id.
    seen: set[str] = set()
    for cell in nb.cells:
        gid = _gid(cell)
        if gid is None:
            if "nbgrader" in cell.get("metadata", {}):
                del cell.metadata["nbgrader"]
                notes.append("a cell had malformed nbgrader metadata: removed")
            continue
        if gid in seen or gid not in wanted:
            del cell.metadata["nbgrader"]
            notes.append(f"a cell carried the grade id {gid!r} (copied or invented): its nbgrader metadata was removed")
        else:
            seen.add(gid)
    by_id = {_gid(c): c for c in nb.cells if _gid(c)}
    previous = None  # the last instructor cell placed, to insert a missing one after it
    for ref_cell in reference:
        gid = _gid(ref_cell)
        cell = by_id.get(gid)
        ref_meta = ref_cell.metadata["nbgrader"]
        if cell is None:
            cell = copy.deepcopy(ref_cell)
            index = nb.cells.index(previous) + 1 if previous is not None else 0
            nb.cells.insert(index, cell)
            notes.append(f"the cell {gid} was deleted: the grader put the original back")
        else:
            if cell.cell_type != ref_cell.cell_type:
                notes.append(f"the cell {gid} was changed to {cell.cell_type}: restored")
                replacement = copy.deepcopy(ref_cell)
                nb.cells[nb.cells.index(cell)] = replacement
                cell = replacement
            if ref_meta.get("locked") and not ref_meta.get("solution") and cell.source != ref_cell.source:
                cell.source = ref_cell.source
                notes.append(f"the locked cell {gid} was edited: the grader restored the original")
            if dict(cell.metadata.get("nbgrader", {})) != dict(ref_meta):
                cell.metadata["nbgrader"] = copy.deepcopy(ref_meta)
                notes.append(f"the grading metadata of {gid} was edited: restored")
        previous = cell
    return notes


def read_release(path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)
