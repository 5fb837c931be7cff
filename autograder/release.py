"""``python -m autograder release aN``: from the two authored files in solutions/aN/ (the notebook and
``spec.py``), after a pre-flight check of one against the other (``autograder.preflight``), generate

* the student notebook ``assignments/aN/aN.ipynb`` and its self-check tests ``assignments/aN/tests/qN.py``
  (committed: students and Binder users open them directly; a test checks them for drift);
* on demand (``build``), never committed: the nbgrader course tree (source notebook with the hidden-test
  capture cells, ``nbgrader_config.py``) and the otter files (hidden capture tests, ``otter_config.json``,
  ``autograder.zip``). The grader builds them per batch in its temporary folder.

The student notebook *is* nbgrader's release of the source (nbgrader strips solutions and hidden tests and
adds the checksums that ``nbgrader autograde`` needs), normalised; otter's self-checks are the public test
files, which load with ``otter.Notebook(tests_dir="tests")``.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from . import assignments, notebooks, reference
from .paths import KERNEL_SIDE, REPO

HIDDEN_CELL = '''# The hidden tests of {q} run here when your notebook is graded; leave this cell as it is.
### BEGIN HIDDEN TESTS
from autograder.kernel import capture as _capture
_capture("{q}", globals())
### END HIDDEN TESTS'''

OTTER_HIDDEN_TEST = '''"""Hidden test of question {q} (instructor side). It only captures the student's outputs;
the verdict is computed outside the kernel by `python -m autograder grade`."""
from otter.test_files import test_case

OK_FORMAT = False
name = "{q}"
points = {points}


@test_case(points={points}, hidden=True)
def capture_{q}(env):
    from autograder.kernel import capture

    capture("{q}", env)
'''

OTTER_CONFIG = {"lang": "python", "show_stdout": False, "show_hidden": False, "print_summary": False,
                "logo": False, "zips": False}


@dataclass
class Build:
    """The generated instructor artefacts of one assignment under ``root`` (a temporary folder, or
    ``autograder/build/<aN>/`` when asked for): never committed, rebuilt from the two authored files."""

    root: Path
    assignment: str

    @property
    def nbgrader_dir(self) -> Path:
        return self.root / "nbgrader"

    @property
    def nbgrader_source(self) -> Path:
        return self.nbgrader_dir / "source" / self.assignment / f"{self.assignment}.ipynb"

    @property
    def otter_dir(self) -> Path:
        return self.root / "otter"

    @property
    def otter_zip(self) -> Path:
        return self.otter_dir / "autograder.zip"


@dataclass
class ReleasePaths:
    """The committed student release of one assignment under ``root`` (the course root, or a scratch copy)."""

    root: Path
    assignment: str

    @property
    def student_dir(self) -> Path:
        return self.root / "assignments" / self.assignment

    @property
    def student_notebook(self) -> Path:
        return self.student_dir / f"{self.assignment}.ipynb"

    def committed(self) -> list[Path]:
        """Every generated file that is committed (the drift test compares these)."""
        return [self.student_notebook, *sorted(self.student_dir.glob("tests/*.py"))]


def nbgrader_source(solution_nb, points: dict[str, float]):
    """The solution notebook plus one hidden capture cell (graded, locked) after each ``grader.check``."""
    nb = copy.deepcopy(solution_nb)
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        gid = notebooks.grade_id(cell)
        if gid.endswith("-check"):
            q = gid.removesuffix("-check")
            hidden = nbformat.v4.new_code_cell(HIDDEN_CELL.format(q=q))
            hidden.id = f"{q}-hidden"
            hidden.metadata["nbgrader"] = {"grade": True, "grade_id": f"{q}-hidden", "locked": True,
                                           "points": points[q], "schema_version": 3, "solution": False,
                                           "task": False}
            cells.append(hidden)
    nb.cells = cells
    return notebooks.normalise(nb)


def tool_env(extra: dict | None = None) -> dict:
    """The environment for nbgrader/otter subprocesses: this interpreter's bin directory first on PATH
    (nbgrader runs ``alembic`` and jupyter from PATH), plus ``extra``."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(extra or {})
    return env


def run_nbgrader_generate(course_dir: Path, assignment: str, db_url: str) -> Path:
    """``nbgrader generate_assignment`` in ``course_dir``; returns the released notebook's path."""
    cmd = [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force",
           f"--CourseDirectory.db_url={db_url}", "--log-level=WARN"]
    proc = subprocess.run(cmd, cwd=course_dir, capture_output=True, text=True, env=tool_env())
    if proc.returncode != 0:
        raise RuntimeError(f"nbgrader generate_assignment failed:\n{proc.stdout}\n{proc.stderr}")
    return course_dir / "release" / assignment / f"{assignment}.ipynb"


def student_notebook(released_nb):
    """nbgrader's release, normalised; hidden-test cells keep only their visible comment."""
    return notebooks.normalise(released_nb)


def build_otter_zip(build: Build, target: Path | None = None) -> Path:
    """``otter generate`` over the hidden capture tests, shipping the kernel-side capture module
    (``autograder/kernel.py`` and what it imports) as support files at the submission's root."""
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp)
        shutil.copytree(build.otter_dir / "tests", stage / "tests")
        shutil.copy(build.otter_dir / "otter_config.json", stage / "otter_config.json")
        support = []
        for name in KERNEL_SIDE:
            (stage / "autograder").mkdir(exist_ok=True)
            shutil.copy(REPO / "autograder" / name, stage / "autograder" / name)
            support.append(f"autograder/{name}")
        cmd = [sys.executable, "-m", "otter", "generate", "-t", "tests", "-o", "autograder.zip",
               "-c", "otter_config.json", "--no-requirements", "--no-environment", *support]
        proc = subprocess.run(cmd, cwd=stage, capture_output=True, text=True, env=tool_env())
        if proc.returncode != 0:
            raise RuntimeError(f"otter generate failed:\n{proc.stdout}\n{proc.stderr}")
        target = Path(target or build.otter_zip)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(stage / "autograder.zip", target)
    return target




def public_tests(assignment: str) -> dict[str, str]:
    """``{question: text of tests/<question>.py}``, expected values computed by the reference."""
    from .public import render

    a = assignments.get(assignment)
    ref = reference.load(assignment, training=True)  # a self-check may test the trained model
    return {q: render(assignment, q, a.spec, ref) for q in a.spec.PUBLIC}


def build(assignment: str, target: Path, public: dict[str, str] | None = None, zip: bool = False) -> Build:
    """Generate the nbgrader course tree and the otter files of ``assignment`` into ``target``."""
    a = assignments.get(assignment)
    out = Build(Path(target), assignment)
    public = public_tests(assignment) if public is None else public
    if out.root.exists():
        shutil.rmtree(out.root)
    out.nbgrader_dir.mkdir(parents=True)
    shutil.copy(REPO / "autograder" / "nbgrader_config.py", out.nbgrader_dir / "nbgrader_config.py")
    notebooks.write(nbgrader_source(notebooks.read(a.notebook), a.questions), out.nbgrader_source)
    for q, text in public.items():
        _write(out.nbgrader_source.parent / "tests" / f"{q}.py", text)
    for q, pts in a.questions.items():
        _write(out.otter_dir / "tests" / f"{q}.py", OTTER_HIDDEN_TEST.format(q=q, points=pts))
    _write(out.otter_dir / "otter_config.json", json.dumps(OTTER_CONFIG, indent=2) + "\n")
    if zip:
        build_otter_zip(out)
    return out


def release(assignment: str, root: Path | None = None, build_dir: Path | None = None) -> ReleasePaths:
    """Check the spec against the notebook (``preflight``), then write the student release of
    ``assignment`` to ``<root>/assignments/<aN>/`` (default: its course root). Everything is generated
    in a temporary folder and swapped in at the end: a failed release leaves the old one as it was.
    ``build_dir`` keeps the nbgrader/otter tree there (by default it is thrown away)."""
    from .preflight import preflight

    a = assignments.get(assignment)
    paths = ReleasePaths(Path(root) if root is not None else a.root, assignment)
    preflight(assignment)
    public = public_tests(assignment)
    with tempfile.TemporaryDirectory(prefix=f"release-{assignment}-") as tmp:
        tree = build(assignment, Path(tmp) / "build", public)
        released = run_nbgrader_generate(tree.nbgrader_dir, assignment, f"sqlite:///{tmp}/gradebook.db")
        student = student_notebook(notebooks.read(released))
        stage = ReleasePaths(Path(tmp) / "stage", assignment)
        notebooks.write(student, stage.student_notebook)
        for q, text in public.items():
            _write(stage.student_dir / "tests" / f"{q}.py", text)
        if build_dir is not None:
            if Path(build_dir).exists():
                shutil.rmtree(build_dir)
            shutil.copytree(tree.root, build_dir, ignore=shutil.ignore_patterns("release", "gradebook.db"))
        # the swap: the old release is moved aside, the new one moved in, the old one removed
        paths.student_dir.parent.mkdir(parents=True, exist_ok=True)
        old = Path(tmp) / "old"
        if paths.student_dir.exists():
            os.replace(paths.student_dir, old)
        try:
            shutil.move(str(stage.student_dir), str(paths.student_dir))
        except BaseException:
            if old.exists() and not paths.student_dir.exists():
                os.replace(old, paths.student_dir)
            raise
    return paths


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
