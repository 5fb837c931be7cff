"""Intake: find and check every submission of a folder before any of it is executed.

``scan(folder, assignment, work_dir)`` returns one ``Submission`` per student and never raises
for a bad one: the submission gets ``problem`` (a message that names what is wrong and what to
do) and no notebook, and the batch goes on. A good one gets ``notebook_path``: a private copy,
in ``work_dir``, of exactly the bytes that were checked (converted to nbformat 4 if needed), so
nothing can change or swap it between the check and the grading.

Layouts, per entry of ``folder`` (the student id is the entry's name, without extension):

* ``<student>.ipynb``: one notebook file per student;
* ``<student>/``: a folder (searched a few levels deep, so nbgrader's
  ``submitted/<student>/<assignment>/<assignment>.ipynb`` works when ``folder`` is ``submitted/``);
* ``<student>.zip``, or a folder holding only a zip: otter's submission archive.

Which notebook: ``<assignment>.ipynb`` if present (the shallowest); otherwise a single notebook of
another name is accepted with a warning (students rename files; a zero for "Copy of a1.ipynb"
helps no one), unless ``accept_other_name=False``; several candidates and none with the right
name is a problem. With ``IntakeConfig.grade_ids`` (the grader passes the release's), a notebook with
none of the assignment's graded cells is rejected as not the assignment, and of several copies of the
assignment the one with the most answered cells is graded (``_pick`` states the rule). Checkpoints, ``__MACOSX``, hidden files and symlinks are never candidates;
symlinks are never followed (not even inside the folder) and are listed with other extra files.

Policy on bad input: empty, over-size, non-UTF-8, non-JSON, not-a-notebook, nbformat < 3 or > 4,
and invalid notebooks are rejected; nbformat 3 is converted by ``nbformat`` (then validated) with
a warning; an archive with a member that is absolute, climbs out (``..``), is a symlink, or whose
sizes or member count exceed the caps (declared *and* actually read) is rejected as a whole.
"""

from __future__ import annotations

import json
import os
import re
import stat
import warnings as warnings_module
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import nbformat

MB = 1024 * 1024
STUDENT_ID = re.compile(r"^[\w@+-][\w.@+ -]{0,99}$")  # \w: letters in any script, digits, underscore
IGNORED_DIRS = {".ipynb_checkpoints", "__MACOSX", "__pycache__", ".git"}
RESUBMIT = "Open the notebook in Jupyter, save it (File > Save), and submit that .ipynb file again."


@dataclass
class IntakeConfig:
    """Caps and choices of intake (each a safe default for a course of notebooks)."""

    max_notebook_mb: float = 50.0  # a larger notebook is nearly always huge saved outputs
    max_zip_members: int = 1000  # entries in one archive
    max_zip_total_mb: float = 500.0  # declared uncompressed size of a whole archive
    max_zip_member_mb: float = 100.0  # declared uncompressed size of one member
    accept_other_name: bool = True  # grade a single notebook with another name (with a warning)
    max_depth: int = 4  # folder levels searched below <student>/
    max_entries: int = 10_000  # files and folders looked at per student
    # The assignment's nbgrader grade ids (from the release). When given, a notebook holding none of
    # them is not the assignment (a lecture handed in by mistake), and between several copies of the
    # assignment in one hand-in the one with the most answered cells is graded (``_pick``).
    grade_ids: frozenset | None = None


@dataclass
class Submission:
    """One student's hand-in after intake."""

    student: str
    notebook_path: Path | None  # the checked private copy to grade; None if ``problem``
    problem: str | None  # why it cannot be graded: for the student and the instructor
    source: Path | None = None  # what was handed in: a file, a folder or an archive
    warnings: list[str] = field(default_factory=list)  # graded anyway, but worth a look
    extra_files: list[str] = field(default_factory=list)  # ignored files, relative to the source

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass
class IntakeReport:
    """All submissions of a folder, and the entries of the folder that are not submissions."""

    submissions: list[Submission]
    ignored: list[str] = field(default_factory=list)  # "name: why"


class Rejected(Exception):
    """A submission-level problem; the message is shown to people as is."""


# ---------------------------------------------------------------- reading and checking one notebook


def _sniff(data: bytes) -> str | None:
    """Name a common non-notebook format from its first bytes."""
    head = data[:512].lstrip().lower()
    if data.startswith(b"PK\x03\x04"):
        return "a zip archive renamed to .ipynb"
    if data.startswith(b"%PDF"):
        return "a PDF file"
    if head.startswith((b"<!doctype html", b"<html")):
        return "a web page (HTML), perhaps saved from the browser instead of downloaded from Jupyter"
    if head.startswith(b"#") or head.startswith(b"import "):
        return "a Python script, not a notebook"
    return None


def check_notebook_bytes(data: bytes, name: str, config: IntakeConfig) -> tuple[bytes, list[str]]:
    """Validate a notebook's bytes; return nbformat-4 bytes to grade and warnings, or raise ``Rejected``."""
    warnings: list[str] = []
    if not data.strip():
        raise Rejected(f"{name} is empty (0 bytes or only blanks). {RESUBMIT}")
    if len(data) > config.max_notebook_mb * MB:
        raise Rejected(f"{name} is {len(data) / MB:.0f} MB, over the limit of {config.max_notebook_mb:g} MB: "
                       "it is probably large saved outputs. Clear them (Kernel > Restart & Clear Output), "
                       "save, and submit again.")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
        warnings.append(f"{name} started with a UTF-8 byte-order mark (removed)")
    kind = _sniff(data)
    if kind:
        raise Rejected(f"{name} is {kind}. {RESUBMIT}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected(f"{name} is not UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start}): "
                       f"it was saved by another program or damaged. {RESUBMIT}") from None
    try:
        raw = json.loads(text)
    except RecursionError:
        raise Rejected(f"{name} is nested too deeply to be a notebook. {RESUBMIT}") from None
    except ValueError as exc:
        raise Rejected(f"{name} is not valid JSON ({exc}): the file is damaged or truncated. {RESUBMIT}") from None
    if not isinstance(raw, dict) or "cells" not in raw and "worksheets" not in raw:
        raise Rejected(f"{name} is JSON but not a Jupyter notebook (no cells). {RESUBMIT}")
    version = raw.get("nbformat")
    if not isinstance(version, int):
        raise Rejected(f"{name} has no nbformat version: it is not a Jupyter notebook. {RESUBMIT}")
    if version < 3:
        raise Rejected(f"{name} uses nbformat {version}, from IPython 1 or older; open it in a current Jupyter, "
                       "save it, and submit again.")
    if version > 4:
        raise Rejected(f"{name} uses nbformat {version}, newer than this grader reads (4); save it from the "
                       "course's Jupyter (File > Save As) and submit again. Instructor: upgrade nbformat.")
    try:
        with warnings_module.catch_warnings():
            warnings_module.simplefilter("ignore")  # e.g. missing cell ids: repaired below, reported there
            nb = nbformat.reads(text, as_version=4)  # converts nbformat 3
    except Exception as exc:  # nbformat raises many types for malformed notebooks
        raise Rejected(f"{name} is not a valid notebook ({type(exc).__name__}: {str(exc)[:200]}). "
                       f"{RESUBMIT}") from None
    changed = version == 3
    if changed:
        warnings.append(f"{name} was in the old nbformat 3 and was converted to nbformat 4")
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError:
        changes, fixed = nbformat.validator.normalize(nb, strip_invalid_metadata=True)
        try:
            nb = nbformat.from_dict(fixed)
            nbformat.validate(nb)
        except nbformat.ValidationError as exc:
            raise Rejected(f"{name} is not a valid notebook ({exc.message[:200]}). {RESUBMIT}") from None
        warnings.append(f"{name} had {changes} invalid entries, repaired (nbformat.validator.normalize)")
        changed = True
    if not nb.cells:
        raise Rejected(f"{name} has no cells: is it the right file? {RESUBMIT}")
    if changed:
        return nbformat.writes(nb).encode("utf-8"), warnings
    return data, warnings  # exactly the bytes that were handed in (BOM aside)


def _read_regular_file(path: Path, limit: int) -> bytes:
    """Read at most ``limit + 1`` bytes of a regular file, refusing symlinks, FIFOs and devices."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == getattr(os, "ELOOP", 40):
            raise Rejected(f"{path.name} is a symbolic link; links are not followed. Submit the file itself.")
        raise Rejected(f"{path.name} cannot be opened ({exc.strerror}). Instructor: check its permissions.")
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise Rejected(f"{path.name} is not a regular file. Submit the notebook file itself.")
        return handle.read(limit + 1)


# ---------------------------------------------------------------- choosing the notebook


def _choose(candidates: list[str], assignment: str, config: IntakeConfig, where: str) -> tuple[str, list[str]]:
    """The candidate to grade (a relative POSIX path) and warnings; raise ``Rejected`` if ambiguous."""
    expected = f"{assignment}.ipynb"
    exact = sorted((c for c in candidates if PurePosixPath(c).name == expected), key=lambda c: (c.count("/"), c))
    warnings = []
    if exact:
        if len(exact) > 1:
            warnings.append(f"several {expected} in {where} ({', '.join(exact)}); graded {exact[0]}")
        others = [c for c in candidates if c not in exact]
        if others:
            warnings.append(f"other notebooks ignored: {', '.join(sorted(others))}")
        return exact[0], warnings
    if not candidates:
        raise Rejected(f"no notebook (.ipynb) found in {where}. Submit {expected}.")
    if len(candidates) > 1:
        raise Rejected(f"{where} holds {len(candidates)} notebooks ({', '.join(sorted(candidates)[:5])}) and none "
                       f"is named {expected}: rename the one to be graded to {expected} and submit again.")
    if not config.accept_other_name:
        raise Rejected(f"the notebook in {where} is named {candidates[0]}, not {expected}: rename it and "
                       "submit again.")
    return candidates[0], [f"the notebook is named {candidates[0]}, not {expected}; graded anyway"]


def _assignment_cells(data: bytes, config: IntakeConfig) -> tuple[int, int, int]:
    """(graded cells of the assignment present, solution cells answered, solution cells) in checked bytes."""
    cells = json.loads(data.decode("utf-8")).get("cells", [])
    present = answered = solutions = 0
    for cell in cells:
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        if meta.get("grade_id") not in config.grade_ids:
            continue
        present += 1
        if meta.get("solution") and cell.get("cell_type") == "code":
            solutions += 1
            source = cell.get("source", "")
            answered += "raise NotImplementedError" not in ("".join(source) if isinstance(source, list) else source)
    return present, answered, solutions


def _not_the_assignment(name: str, assignment: str, config: IntakeConfig) -> Rejected:
    return Rejected(f"{name} is not assignment {assignment}: it has none of the assignment's "
                    f"{len(config.grade_ids)} graded cells (a lecture or another notebook handed in by mistake?). "
                    f"Submit your {assignment}.ipynb, the notebook of the assignment you worked in.")


def _pick(candidates: list[str], read, assignment: str, config: IntakeConfig,
          where: str) -> tuple[str, bytes, list[str]]:
    """Choose the notebook to grade among ``candidates`` (``read(rel) -> bytes`` of one); return it, its
    checked bytes and warnings. Without ``config.grade_ids`` the name rules of ``_choose`` decide.

    With them, the rule for several copies of the assignment (``a1.ipynb`` and ``a1-Copy1.ipynb``):
    **the copy with the most answered solution cells is graded; a tie goes to ``<assignment>.ipynb``,
    then to the shallowest path, then to the first in alphabetical order**, and a warning names every
    copy. Notebooks that are not the assignment are ignored; if none is, the hand-in is rejected."""
    if config.grade_ids is None or len(candidates) <= 1:
        chosen, warnings = _choose(candidates, assignment, config, where)
        data, more = check_notebook_bytes(read(chosen), chosen, config)
        if config.grade_ids is not None and _assignment_cells(data, config)[0] == 0:
            raise _not_the_assignment(chosen, assignment, config)
        return chosen, data, warnings + more
    expected = f"{assignment}.ipynb"
    copies, others = {}, []
    for rel in candidates:
        try:
            data, more = check_notebook_bytes(read(rel), rel, config)
        except Rejected:
            others.append(rel)
            continue
        present, answered, solutions = _assignment_cells(data, config)
        if present:
            copies[rel] = (data, more, answered, solutions)
        else:
            others.append(rel)
    if not copies:
        if len(candidates) == 1 or any(PurePosixPath(c).name == expected for c in candidates):
            first = sorted(candidates, key=lambda c: (PurePosixPath(c).name != expected, c.count("/"), c))[0]
            raise _not_the_assignment(first, assignment, config)
        raise Rejected(f"none of the {len(candidates)} notebooks in {where} ({', '.join(sorted(candidates)[:5])}) "
                       f"is assignment {assignment}: none has its graded cells. Submit your {expected}.")
    order = sorted(copies, key=lambda c: (-copies[c][2], PurePosixPath(c).name != expected, c.count("/"), c))
    chosen = order[0]
    data, warnings, _, _ = copies[chosen]
    warnings = list(warnings)
    if len(copies) > 1:
        listing = "; ".join(f"{c}: {copies[c][2]} of {copies[c][3]} answered" for c in sorted(copies))
        warnings.insert(0, f"{len(copies)} copies of {assignment} in {where} ({listing}); graded {chosen}, by the "
                           f"rule: the copy with the most answered cells (a tie goes to {expected}). "
                           "Instructor: check it is the one meant.")
    elif PurePosixPath(chosen).name != expected:
        warnings.insert(0, f"the notebook is named {chosen}, not {expected}; graded anyway")
    if others:
        warnings.append(f"other notebooks ignored: {', '.join(sorted(others))}")
    return chosen, data, warnings


def grade_ids_of(notebook: Path) -> frozenset:
    """The nbgrader grade ids of a (released) notebook: what ``IntakeConfig.grade_ids`` expects."""
    cells = json.loads(Path(notebook).read_text(encoding="utf-8")).get("cells", [])
    return frozenset(meta["grade_id"] for cell in cells
                     if "grade_id" in (meta := (cell.get("metadata") or {}).get("nbgrader") or {}))


def _is_candidate(rel: str) -> bool:
    parts = PurePosixPath(rel).parts
    return (rel.lower().endswith(".ipynb") and not any(p.startswith(".") or p in IGNORED_DIRS for p in parts))


# ---------------------------------------------------------------- the three kinds of hand-in


def _from_file(path: Path, assignment: str, config: IntakeConfig) -> tuple[bytes, list[str], list[str]]:
    data = _read_regular_file(path, int(config.max_notebook_mb * MB))
    notebook, warnings = check_notebook_bytes(data, path.name, config)
    if config.grade_ids is not None and _assignment_cells(notebook, config)[0] == 0:
        raise _not_the_assignment(path.name, assignment, config)
    return notebook, warnings, []


def _from_folder(folder: Path, assignment: str, config: IntakeConfig) -> tuple[bytes, list[str], list[str]]:
    files, links, count = [], [], 0
    root = str(folder)
    for current, dirs, names in os.walk(folder, followlinks=False):
        rel_dir = os.path.relpath(current, root)
        depth = 0 if rel_dir == "." else rel_dir.count(os.sep) + 1
        count += len(dirs) + len(names)
        if count > config.max_entries:
            raise Rejected(f"the folder holds more than {config.max_entries} files; submit only the notebook.")
        for name in list(dirs):
            if os.path.islink(os.path.join(current, name)):
                links.append(os.path.normpath(os.path.join(rel_dir, name)))
        dirs[:] = [d for d in dirs if d not in IGNORED_DIRS and not os.path.islink(os.path.join(current, d))
                   and depth < config.max_depth]
        for name in names:
            rel = PurePosixPath(*Path(os.path.normpath(os.path.join(rel_dir, name))).parts).as_posix()
            (links if os.path.islink(os.path.join(current, name)) else files).append(rel)
    candidates = [f for f in files if _is_candidate(f)]
    zips = [f for f in files if f.lower().endswith(".zip") and not PurePosixPath(f).name.startswith(".")]
    if not candidates and len(zips) == 1:
        notebook, warnings, extra = _from_zip(folder / zips[0], assignment, config)
        return notebook, warnings, sorted(set(files) - {zips[0]}) + extra
    if not candidates and any(_is_candidate(link) for link in links):
        raise Rejected(f"the only notebook in {folder.name}/ is a symbolic link, and links are not followed. "
                       "Submit the notebook file itself.")
    chosen, notebook, warnings = _pick(candidates, lambda rel: _read_regular_file(
        folder / rel, int(config.max_notebook_mb * MB)), assignment, config, f"{folder.name}/")
    extra = sorted(f for f in files if f != chosen) + [f"{link} (symbolic link, not followed)" for link in links]
    return notebook, warnings, extra


def _zip_member_problem(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    parts = re.split(r"[\\/]", name)
    if "\0" in name:
        return "has a NUL character in its name"
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "has an absolute path"
    if ".." in parts:
        return "climbs out of the archive's folder with '..'"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "is a symbolic link"
    return None


def _from_zip(path: Path, assignment: str, config: IntakeConfig) -> tuple[bytes, list[str], list[str]]:
    label = path.name
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise Rejected(f"{label} cannot be opened ({exc.strerror}); archives must be regular files, not links.")
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise Rejected(f"{label} is not a regular file.")
        try:
            archive = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise Rejected(f"{label} is not a readable zip archive ({exc}). Create the archive again "
                           "(otter: run the notebook's export cell) and submit it.") from None
        with archive:
            return _read_zip(archive, label, assignment, config)


def _read_zip(archive: zipfile.ZipFile, label: str, assignment: str,
              config: IntakeConfig) -> tuple[bytes, list[str], list[str]]:
    again = "Create the archive again with the notebook's export cell (or zip only the notebook)."
    infos = archive.infolist()
    if len(infos) > config.max_zip_members:
        raise Rejected(f"{label} has {len(infos)} entries, over the limit of {config.max_zip_members}. {again}")
    total = 0
    for info in infos:
        problem = _zip_member_problem(info)
        if problem:
            raise Rejected(f"{label} is unsafe: its entry {info.filename!r} {problem}. {again}")
        if info.file_size > config.max_zip_member_mb * MB:
            raise Rejected(f"{label}: entry {info.filename!r} expands to {info.file_size / MB:.1f} MB, over "
                           f"the limit of {config.max_zip_member_mb:g} MB. {again}")
        total += info.file_size
    if total > config.max_zip_total_mb * MB:
        raise Rejected(f"{label} expands to {total / MB:.1f} MB, over the limit of {config.max_zip_total_mb:g} MB. "
                       f"{again}")
    files = [i.filename.replace("\\", "/") for i in infos if not i.is_dir()]
    candidates = [f for f in files if _is_candidate(f)]
    limit = int(min(config.max_notebook_mb, config.max_zip_member_mb) * MB)

    def read(rel: str) -> bytes:
        info = next(i for i in infos if i.filename.replace("\\", "/") == rel)
        if info.flag_bits & 0x1:
            raise Rejected(f"{label}: {rel} is encrypted (password-protected). {again}")
        try:
            with archive.open(info) as member:
                data = member.read(limit + 1)  # never trust the declared size
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError) as exc:
            raise Rejected(f"{label}: {rel} cannot be extracted ({exc}). {again}") from None
        if len(data) > limit:
            raise Rejected(f"{label}: {rel} expands beyond {limit / MB:g} MB (more than it declares). {again}")
        return data

    chosen, notebook, warnings = _pick(candidates, read, assignment, config, label)
    return notebook, warnings, sorted(f for f in files if f != chosen)


# ---------------------------------------------------------------- the whole folder


def _student_of(entry: Path) -> str | None:
    if entry.is_dir() and not entry.is_symlink():
        return entry.name
    suffix = entry.suffix.lower()
    return entry.name[: -len(suffix)] if suffix in (".ipynb", ".zip") else None


def scan(folder: Path, assignment: str, work_dir: Path, config: IntakeConfig | None = None) -> IntakeReport:
    """Check every submission in ``folder``; write each checked notebook to
    ``work_dir/<student>/<assignment>.ipynb``. Raises only if ``folder`` itself is unreadable."""
    config = config or IntakeConfig()
    folder, work_dir = Path(folder), Path(work_dir)
    by_student: dict[str, list[Path]] = {}
    ignored: list[str] = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name in IGNORED_DIRS:
            ignored.append(f"{entry.name}: hidden or system entry")
            continue
        student = _student_of(entry)
        if student is None:
            kind = "symbolic link to a folder" if entry.is_symlink() and entry.is_dir() else "not .ipynb, .zip or a folder"
            ignored.append(f"{entry.name}: {kind}")
            continue
        by_student.setdefault(student, []).append(entry)
    submissions = [_one(student, entries, assignment, work_dir, config)
                   for student, entries in sorted(by_student.items())]
    return IntakeReport(submissions, ignored)


def collect_submissions(folder: Path, assignment: str, work_dir: Path,
                        config: IntakeConfig | None = None) -> list[Submission]:
    """``scan(...).submissions``."""
    return scan(folder, assignment, work_dir, config).submissions


def _one(student: str, entries: list[Path], assignment: str, work_dir: Path, config: IntakeConfig) -> Submission:
    source = entries[0]
    if len(entries) > 1:
        names = ", ".join(e.name + ("/" if e.is_dir() else "") for e in entries)
        return Submission(student, None, f"several submissions for {student} ({names}). Instructor: keep one.",
                          source)
    if not STUDENT_ID.match(student):
        return Submission(student, None, f"the student id {student!r} (from {source.name}) has characters that "
                          "cannot be used in file names and reports. Instructor: rename it (letters, digits, "
                          "'.', '_', '-', '@', '+', spaces).", source)
    try:
        if source.is_symlink():
            raise Rejected(f"{source.name} is a symbolic link; links are not followed. Submit the file itself.")
        if source.is_dir():
            data, warnings, extra = _from_folder(source, assignment, config)
        elif source.suffix.lower() == ".zip":
            data, warnings, extra = _from_zip(source, assignment, config)
        else:
            data, warnings, extra = _from_file(source, assignment, config)
    except Rejected as exc:
        return Submission(student, None, str(exc), source)
    except Exception as exc:  # an intake bug or an I/O error must not stop the batch
        return Submission(student, None, f"intake failed ({type(exc).__name__}: {exc}). Instructor: check this "
                          "submission by hand.", source)
    target = work_dir / student / f"{assignment}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return Submission(student, target, None, source, warnings, extra)
