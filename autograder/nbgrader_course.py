"""Hand our grading back to an nbgrader course folder (the JupyterHub workflow).

On a hub the instructor's course folder is nbgrader's: ``nbgrader collect`` fills
``submitted/<student>/<assignment>/``, the formgrader reads ``gradebook.db`` and shows
``autograded/<student>/<assignment>/``, and ``nbgrader release_feedback`` sends
``feedback/<student>/<assignment>/<notebook>.html`` to each student's ``nbgrader fetch_feedback``.
``python -m autograder grade --nbgrader-course DIR`` grades ``DIR/submitted`` and then :func:`publish`
puts our results in those places:

* the feedback page each student gets is ours (scores and reasons in words, no hidden-test source),
  with the ``timestamp.txt`` and ``submission_secret.txt`` of the collected submission, which
  nbgrader's feedback exchange matches it by;
* the submitted notebook is copied to ``autograded/`` so the formgrader can open it (its scores are
  the gradebook's, which are ours; the engines' own executed copies live only in the sandbox).

The gradebook itself is written by ``grade`` (``DIR/gradebook.db`` unless ``--db-url`` says otherwise).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .results import SubmissionResult

SUBMISSION_FILES = ("timestamp.txt", "submission_secret.txt")


def graded_notebook(folder: Path, assignment: str) -> Path | None:
    """The notebook intake grades in a collected folder: ``<assignment>.ipynb``, else the only one."""
    preferred = folder / f"{assignment}.ipynb"
    if preferred.is_file():
        return preferred
    found = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    return found[0] if len(found) == 1 else None


def submitted_timestamps(course: Path, assignment: str, students) -> dict:
    """``student -> datetime`` of each collected submission (its ``timestamp.txt``). The formgrader lists
    a submission as autograded only if the gradebook's timestamp equals this one."""
    from nbgrader.utils import parse_utc

    found = {}
    for student in students:
        path = Path(course) / "submitted" / student / assignment / "timestamp.txt"
        if path.is_file():
            found[student] = parse_utc(path.read_text().strip())
    return found


def publish(course: Path, assignment: str, results: list[SubmissionResult], out: Path) -> list[str]:
    """Copy each result's feedback page (from ``out/feedback``) and submitted notebook into the course
    folder's ``feedback/`` and ``autograded/``. Returns one line per student it could not publish."""
    course, out = Path(course), Path(out)
    problems = []
    for result in results:
        submitted = course / "submitted" / result.student / assignment
        page = out / "feedback" / f"{result.student}.html"
        notebook = graded_notebook(submitted, assignment) if submitted.is_dir() else None
        if notebook is None:
            problems.append(f"{result.student}: no collected notebook in {submitted} (was it collected with "
                            f"nbgrader collect?); feedback not published")
            continue
        if not page.is_file():
            problems.append(f"{result.student}: no feedback page {page}")
            continue
        for target in (course / "feedback" / result.student / assignment,
                       course / "autograded" / result.student / assignment):
            target.mkdir(parents=True, exist_ok=True)
            for name in SUBMISSION_FILES:
                if (submitted / name).is_file():
                    shutil.copy2(submitted / name, target / name)
        shutil.copy2(page, course / "feedback" / result.student / assignment / f"{notebook.stem}.html")
        shutil.copy2(notebook, course / "autograded" / result.student / assignment / notebook.name)
    return problems
