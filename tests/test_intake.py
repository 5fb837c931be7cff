"""autograder.intake: every layout is found, every bad hand-in becomes a clear per-student problem,
and one bad submission never stops the batch or makes intake read outside the submission."""

from __future__ import annotations

import io
import json
import os
import stat
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.intake import IntakeConfig, Submission, check_notebook_bytes, collect_submissions, scan

REPO = Path(__file__).resolve().parents[1]
A = "a1"


def nb_bytes(*sources: str, grade_id: str | None = "q1-solution") -> bytes:
    cells = [nbformat.v4.new_code_cell(s) for s in sources] or []
    if grade_id and cells:
        cells[0].metadata["nbgrader"] = {"grade_id": grade_id, "solution": True, "grade": False, "locked": False}
    return nbformat.writes(nbformat.v4.new_notebook(cells=cells)).encode()


GOOD = nb_bytes("x = 1")


def v3_bytes() -> bytes:
    return json.dumps({
        "nbformat": 3, "nbformat_minor": 0, "metadata": {"name": "a1"},
        "worksheets": [{"cells": [
            {"cell_type": "code", "input": "y = 2", "language": "python", "outputs": [], "prompt_number": 1,
             "metadata": {"nbgrader": {"grade_id": "q1-solution", "solution": True}}},
            {"cell_type": "markdown", "source": "# Title", "metadata": {}}], "metadata": {}}],
    }).encode()


def make_zip(path: Path, members: dict, symlinks: tuple = ()) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name, target in symlinks:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return path


def one(folder: Path, tmp_path: Path, config: IntakeConfig | None = None) -> Submission:
    subs = collect_submissions(folder, A, tmp_path / "work", config)
    assert len(subs) == 1, subs
    return subs[0]


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "submissions"
    path.mkdir()
    return path


# ---------------------------------------------------------------- layouts that must work


def test_file_per_student_folder_per_student_nbgrader_and_otter_zip_layouts(folder, tmp_path):
    (folder / "ann.ipynb").write_bytes(GOOD)
    (folder / "bob").mkdir()
    (folder / "bob" / "a1.ipynb").write_bytes(nb_bytes("x = 'bob'"))
    (folder / "cyd" / "a1").mkdir(parents=True)  # nbgrader: submitted/<student>/<assignment>/<assignment>.ipynb
    (folder / "cyd" / "a1" / "a1.ipynb").write_bytes(nb_bytes("x = 'cyd'"))
    (folder / "cyd" / "a1" / "timestamp.txt").write_text("2026-11-21 10:00:00")
    make_zip(folder / "dee.zip", {"a1.ipynb": nb_bytes("x = 'dee'"), "a1.pdf": b"%PDF-1.4"})  # otter export
    (folder / "eve").mkdir()
    make_zip(folder / "eve" / "a1_2026_11_21.zip", {"a1.ipynb": nb_bytes("x = 'eve'")})
    report = scan(folder, A, tmp_path / "work")
    by = {s.student: s for s in report.submissions}
    assert sorted(by) == ["ann", "bob", "cyd", "dee", "eve"] and report.ignored == []
    for student, sub in by.items():
        assert sub.ok and sub.problem is None, (student, sub.problem)
        assert sub.notebook_path == tmp_path / "work" / student / "a1.ipynb"
        nbformat.validate(nbformat.read(sub.notebook_path, as_version=4))
    assert by["ann"].notebook_path.read_bytes() == GOOD, "a valid notebook is copied byte for byte"
    assert "x = 'cyd'" in by["cyd"].notebook_path.read_text() and by["cyd"].extra_files == ["a1/timestamp.txt"]
    assert by["dee"].extra_files == ["a1.pdf"] and by["dee"].source == folder / "dee.zip"
    assert "x = 'eve'" in by["eve"].notebook_path.read_text()


def test_the_checked_copy_is_what_gets_graded(folder, tmp_path):
    (folder / "ann.ipynb").write_bytes(GOOD)
    sub = one(folder, tmp_path)
    (folder / "ann.ipynb").write_bytes(b"swapped after the check")
    assert sub.notebook_path.read_bytes() == GOOD


# ---------------------------------------------------------------- names and choice of notebook


def test_a_single_notebook_with_another_name_is_graded_with_a_warning(folder, tmp_path):
    (folder / "ann").mkdir()
    (folder / "ann" / "Copy of a1.ipynb").write_bytes(GOOD)
    sub = one(folder, tmp_path)
    assert sub.ok and "named Copy of a1.ipynb, not a1.ipynb; graded anyway" in sub.warnings[0]
    strict = one(folder, tmp_path, IntakeConfig(accept_other_name=False))
    assert not strict.ok and "rename it" in strict.problem


def test_the_right_name_wins_and_others_are_listed(folder, tmp_path):
    (folder / "ann" / "old").mkdir(parents=True)
    (folder / "ann" / "a1.ipynb").write_bytes(GOOD)
    (folder / "ann" / "scratch.ipynb").write_bytes(GOOD)
    (folder / "ann" / "old" / "a1.ipynb").write_bytes(nb_bytes("old = True"))
    (folder / "ann" / ".ipynb_checkpoints").mkdir()
    (folder / "ann" / ".ipynb_checkpoints" / "a1-checkpoint.ipynb").write_bytes(GOOD)
    sub = one(folder, tmp_path)
    assert sub.ok and sub.notebook_path.read_bytes() == GOOD
    assert any("several a1.ipynb" in w for w in sub.warnings)
    assert any("other notebooks ignored: scratch.ipynb" in w for w in sub.warnings)


def test_several_notebooks_none_named_right_or_none_at_all_are_problems(folder, tmp_path):
    (folder / "ann").mkdir()
    (folder / "ann" / "draft.ipynb").write_bytes(GOOD)
    (folder / "ann" / "final.ipynb").write_bytes(GOOD)
    (folder / "bob").mkdir()
    (folder / "bob" / "a1.py").write_text("print('exported as a script')")
    subs = {s.student: s for s in collect_submissions(folder, A, tmp_path / "work")}
    assert "2 notebooks (draft.ipynb, final.ipynb) and none is named a1.ipynb" in subs["ann"].problem
    assert "rename the one to be graded to a1.ipynb" in subs["ann"].problem
    assert subs["bob"].problem.startswith("no notebook (.ipynb) found in bob/") and subs["bob"].notebook_path is None


def test_duplicate_and_unusable_student_ids(folder, tmp_path):
    (folder / "ann.ipynb").write_bytes(GOOD)
    (folder / "ann").mkdir()
    (folder / "ann" / "a1.ipynb").write_bytes(GOOD)
    (folder / "bad\nname.ipynb").write_bytes(GOOD)
    (folder / ".DS_Store").write_bytes(b"\0")
    (folder / "grades.csv").write_text("old")
    report = scan(folder, A, tmp_path / "work")
    subs = {s.student: s for s in report.submissions}
    assert "several submissions for ann (ann/, ann.ipynb)" in subs["ann"].problem
    assert "cannot be used in file names" in subs["bad\nname"].problem
    assert sorted(report.ignored) == [".DS_Store: hidden or system entry", "grades.csv: not .ipynb, .zip or a folder"]


# ---------------------------------------------------------------- file contents


BAD_CONTENTS = {
    "empty": (b"", "is empty"),
    "blank": (b"  \n\n", "is empty"),
    "truncated": (GOOD[: len(GOOD) // 2], "is not valid JSON"),
    "latin1": ('{"cells": [], "note": "caf\xe9"}'.encode("latin-1"), "is not UTF-8 text (byte 0xe9"),
    "pdf": (b"%PDF-1.7\n...", "is a PDF file"),
    "zip_renamed": (b"PK\x03\x04rest", "is a zip archive renamed to .ipynb"),
    "html": (b"<!DOCTYPE html><html>", "is a web page (HTML)"),
    "script": (b"import numpy as np\n", "is a Python script"),
    "json_list": (b"[1, 2, 3]", "is JSON but not a Jupyter notebook"),
    "no_version": (b'{"cells": []}', "has no nbformat version"),
    "v2": (json.dumps({"nbformat": 2, "worksheets": []}).encode(), "uses nbformat 2"),
    "v5": (json.dumps({"nbformat": 5, "nbformat_minor": 0, "cells": [], "metadata": {}}).encode(),
           "uses nbformat 5, newer than this grader reads"),
    "no_cells": (nb_bytes(), "has no cells"),
    "invalid": (json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code"}]})
                .encode(), "is not a valid notebook"),
    "deep": (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
}


@pytest.mark.parametrize("case", sorted(BAD_CONTENTS))
def test_bad_contents_are_rejected_with_a_message_that_says_what_to_do(case, folder, tmp_path):
    data, expected = BAD_CONTENTS[case]
    (folder / "ann.ipynb").write_bytes(data)
    sub = one(folder, tmp_path)
    assert not sub.ok and sub.notebook_path is None
    assert expected in sub.problem, sub.problem
    assert any(hint in sub.problem for hint in ("submit", "Submit", "save", "Instructor")), sub.problem


def test_nbformat_3_is_converted_and_keeps_grade_metadata(folder, tmp_path):
    (folder / "ann.ipynb").write_bytes(v3_bytes())
    sub = one(folder, tmp_path)
    assert sub.ok and "converted to nbformat 4" in sub.warnings[0]
    nb = nbformat.read(sub.notebook_path, as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4 and nb.cells[0].source == "y = 2"
    assert nb.cells[0].metadata["nbgrader"]["grade_id"] == "q1-solution"


def test_a_byte_order_mark_and_repairable_metadata_are_fixed_with_warnings(folder, tmp_path):
    raw = json.loads(GOOD)
    raw["cells"][0]["metadata"]["collapsed"] = "not-a-bool"
    (folder / "ann.ipynb").write_bytes(b"\xef\xbb\xbf" + json.dumps(raw).encode())
    sub = one(folder, tmp_path)
    assert sub.ok, sub.problem
    assert any("byte-order mark" in w for w in sub.warnings) and any("repaired" in w for w in sub.warnings)
    nbformat.validate(nbformat.read(sub.notebook_path, as_version=4))


def test_an_oversized_notebook_is_rejected_without_reading_it_whole(folder, tmp_path):
    (folder / "ann.ipynb").write_bytes(GOOD[:-2] + b", " + b'"x": "' + b"y" * 3_000_000 + b'"}')
    sub = one(folder, tmp_path, IntakeConfig(max_notebook_mb=1))
    assert "over the limit of 1 MB" in sub.problem and "Clear them" in sub.problem


def test_check_notebook_bytes_is_usable_on_its_own():
    data, warnings = check_notebook_bytes(GOOD, "a1.ipynb", IntakeConfig())
    assert data == GOOD and warnings == []


# ---------------------------------------------------------------- links and special files


def test_symlinks_are_never_followed(folder, tmp_path):
    secret = tmp_path / "solutions.ipynb"
    secret.write_bytes(nb_bytes("ANSWER = 42"))
    os.symlink(secret, folder / "ann.ipynb")  # a file-per-student entry that is a link
    (folder / "bob").mkdir()
    os.symlink(secret, folder / "bob" / "a1.ipynb")  # the only notebook is a link
    (folder / "cyd").mkdir()
    (folder / "cyd" / "a1.ipynb").write_bytes(GOOD)
    os.symlink(tmp_path, folder / "cyd" / "up")  # a link to a folder outside
    os.symlink(tmp_path, folder / "dan")  # a student "folder" that is a link
    report = scan(folder, A, tmp_path / "work")
    subs = {s.student: s for s in report.submissions}
    assert "symbolic link" in subs["ann"].problem and "not followed" in subs["ann"].problem
    assert "symbolic link" in subs["bob"].problem
    assert subs["cyd"].ok and "up (symbolic link, not followed)" in subs["cyd"].extra_files
    assert "dan" not in subs and "dan: symbolic link to a folder" in report.ignored
    copies = [p.read_bytes() for p in (tmp_path / "work").rglob("*.ipynb")]
    assert not any(b"ANSWER" in c for c in copies)


def test_a_fifo_named_like_the_notebook_does_not_hang_intake(folder, tmp_path):
    (folder / "ann").mkdir()
    os.mkfifo(folder / "ann" / "a1.ipynb")
    sub = one(folder, tmp_path)
    assert "not a regular file" in sub.problem


# ---------------------------------------------------------------- archives


def test_unsafe_archives_are_rejected_and_nothing_is_written_outside(folder, tmp_path):
    make_zip(folder / "ann.zip", {"a1.ipynb": GOOD, "../../evil.py": b"import os"})
    make_zip(folder / "bob.zip", {"a1.ipynb": GOOD, "/etc/evil.conf": b"x"})
    make_zip(folder / "cyd.zip", {"a1.ipynb": GOOD}, symlinks=[("link", "/work/main/solutions")])
    make_zip(folder / "dan.zip", {"a1.ipynb": GOOD, "..\\..\\evil.bat": b"x"})
    make_zip(folder / "eve.zip", {"a1.ipynb": GOOD, "C:/evil": b"x"})
    subs = {s.student: s for s in collect_submissions(folder, A, tmp_path / "work")}
    assert "'../../evil.py' climbs out" in subs["ann"].problem
    assert "'/etc/evil.conf' has an absolute path" in subs["bob"].problem
    assert "'link' is a symbolic link" in subs["cyd"].problem
    assert "climbs out" in subs["dan"].problem and "absolute path" in subs["eve"].problem
    for sub in subs.values():
        assert sub.notebook_path is None and "Create the archive again" in sub.problem
    assert not (tmp_path / "evil.py").exists() and not Path("/etc/evil.conf").exists()


def test_zip_bombs_and_broken_archives_are_rejected(folder, tmp_path):
    make_zip(folder / "ann.zip", {"a1.ipynb": GOOD, "zeros.bin": b"\0" * (3 * 1024 * 1024)})  # 3 MB -> a few KB
    make_zip(folder / "bob.zip", {"a1.ipynb": GOOD, **{f"f{i}.txt": b"" for i in range(30)}})
    make_zip(folder / "cyd.zip", {"a1.ipynb": GOOD, "a.bin": b"\0" * (700 * 1024), "b.bin": b"\0" * (700 * 1024)})
    (folder / "dan.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    data = bytearray(make_zip(tmp_path / "plain.zip", {"a1.ipynb": GOOD}).read_bytes())
    central = data.index(b"PK\x01\x02")
    data[central + 8] |= 0x1  # general-purpose flag bit 0: encrypted
    (folder / "eve.zip").write_bytes(bytes(data))
    make_zip(folder / "fay.zip", {"notes.txt": b"forgot the notebook"})
    config = IntakeConfig(max_zip_member_mb=1, max_zip_total_mb=1, max_zip_members=20)
    subs = {s.student: s for s in collect_submissions(folder, A, tmp_path / "work", config)}
    assert "'zeros.bin' expands to 3.0 MB, over the limit of 1 MB" in subs["ann"].problem
    assert "has 31 entries, over the limit of 20" in subs["bob"].problem
    assert "cyd.zip expands to 1.4 MB, over the limit of 1 MB" in subs["cyd"].problem
    assert "not a readable zip archive" in subs["dan"].problem
    assert "encrypted" in subs["eve"].problem
    assert "no notebook (.ipynb) found in fay.zip" in subs["fay"].problem


def test_a_bad_notebook_inside_an_archive_is_reported_by_name(folder, tmp_path):
    make_zip(folder / "ann.zip", {"a1.ipynb": b"{not json", "__MACOSX/._a1.ipynb": b"\0\5\26\7"})
    sub = one(folder, tmp_path)
    assert sub.problem.startswith("a1.ipynb is not valid JSON")


# ---------------------------------------------------------------- the batch


def test_one_bad_submission_never_stops_the_batch(folder, tmp_path):
    for name, (data, _) in BAD_CONTENTS.items():
        (folder / f"{name}.ipynb").write_bytes(data)
    (folder / "good.ipynb").write_bytes(GOOD)
    make_zip(folder / "evil.zip", {"../x": b""})
    os.mkfifo(folder / "fifo.ipynb")
    subs = collect_submissions(folder, A, tmp_path / "work")
    assert len(subs) == len(BAD_CONTENTS) + 3
    assert [s.student for s in subs if s.ok] == ["good"]
    assert all(s.problem and s.notebook_path is None for s in subs if s.student != "good")


# ---------------------------------------------------------------- the right assignment, and which copy

RELEASE = REPO / "assignments" / "a1" / "a1.ipynb"  # blank: every solution cell raises NotImplementedError
SOLVED = REPO / "solutions" / "a1" / "a1.ipynb"  # every solution cell answered


@pytest.fixture
def a1_ids():
    from autograder.intake import grade_ids_of

    ids = grade_ids_of(RELEASE)
    assert len(ids) >= 7 and "q1-solution" in ids
    return IntakeConfig(grade_ids=ids)


def test_a_lecture_handed_in_as_the_assignment_is_not_the_assignment(folder, tmp_path, a1_ids):
    (folder / "ann.ipynb").write_bytes((REPO / "course" / "03_backprop_through_time.ipynb").read_bytes())
    (folder / "bob").mkdir()
    (folder / "bob" / "a1.ipynb").write_bytes((REPO / "course" / "01_sequences_and_recurrence.ipynb").read_bytes())
    (folder / "cyd.ipynb").write_bytes(RELEASE.read_bytes())
    subs = {s.student: s for s in collect_submissions(folder, A, tmp_path / "work", a1_ids)}
    assert subs["ann"].problem == (
        f"ann.ipynb is not assignment a1: it has none of the assignment's {len(a1_ids.grade_ids)} graded cells "
        "(a lecture or another notebook handed in by mistake?). Submit your a1.ipynb, the notebook of the "
        "assignment you worked in.")
    assert subs["bob"].problem.startswith("a1.ipynb is not assignment a1") and subs["bob"].notebook_path is None
    assert subs["cyd"].ok, subs["cyd"].problem


def test_of_two_copies_the_one_with_more_answers_is_graded_and_flagged(folder, tmp_path, a1_ids):
    (folder / "ann").mkdir()
    (folder / "ann" / "a1.ipynb").write_bytes(RELEASE.read_bytes())  # opened, never filled in
    (folder / "ann" / "a1-Copy1.ipynb").write_bytes(SOLVED.read_bytes())  # where the work was done
    (folder / "ann" / "notes.ipynb").write_bytes(nb_bytes("scratch = 1", grade_id=None))
    sub = one(folder, tmp_path, a1_ids)
    assert sub.ok and sub.notebook_path.read_bytes() == SOLVED.read_bytes()
    n = sum(1 for c in nbformat.read(RELEASE, as_version=4).cells
            if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code")
    assert sub.warnings[0] == (
        f"2 copies of a1 in ann/ (a1-Copy1.ipynb: {n} of {n} answered; a1.ipynb: 0 of {n} answered); graded "
        "a1-Copy1.ipynb, by the rule: the copy with the most answered cells (a tie goes to a1.ipynb). "
        "Instructor: check it is the one meant.")
    assert "other notebooks ignored: notes.ipynb" in sub.warnings


def test_a_tie_between_copies_goes_to_the_assignments_name(folder, tmp_path, a1_ids):
    (folder / "ann").mkdir()
    (folder / "ann" / "a1.ipynb").write_bytes(RELEASE.read_bytes())
    (folder / "ann" / "Copy of a1.ipynb").write_bytes(RELEASE.read_bytes().replace(b"\n", b"\n "))  # same answers
    sub = one(folder, tmp_path, a1_ids)
    assert sub.ok and sub.notebook_path.read_bytes() == RELEASE.read_bytes()
    assert sub.warnings[0].startswith("2 copies of a1 in ann/") and "graded a1.ipynb, by the rule" in sub.warnings[0]


def test_copies_in_an_archive_follow_the_same_rule(folder, tmp_path, a1_ids):
    make_zip(folder / "ann.zip", {"a1.ipynb": RELEASE.read_bytes(), "a1 (1).ipynb": SOLVED.read_bytes()})
    sub = one(folder, tmp_path, a1_ids)
    assert sub.ok and sub.notebook_path.read_bytes() == SOLVED.read_bytes()
    assert "graded a1 (1).ipynb, by the rule" in sub.warnings[0]
