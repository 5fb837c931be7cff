"""``python -m autograder release aN``: from the single source in solutions/aN/, generate

* the student notebook ``assignments/aN/aN.ipynb`` and its self-check tests ``assignments/aN/tests/qN.py``
  (committed: students and Binder users open them directly);
* the nbgrader course tree ``autograder/build/aN/nbgrader/`` (source notebook with the hidden-test
  capture cells, ``nbgrader_config.py``; ``release/`` is rebuilt by ``nbgrader generate_assignment``);
* the otter artefacts ``autograder/build/aN/otter/`` (hidden capture tests, ``otter_config.json``, and the
  ``autograder.zip`` that ``otter run`` and Gradescope use; the zip is not committed).

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
from .examples import build_examples
from .paths import REPO

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
class ReleasePaths:
    """Where one assignment's generated files go, under ``root`` (the repository, or a scratch copy)."""

    root: Path
    assignment: str

    @property
    def student_dir(self) -> Path:
        return self.root / "assignments" / self.assignment

    @property
    def student_notebook(self) -> Path:
        return self.student_dir / f"{self.assignment}.ipynb"

    @property
    def nbgrader_dir(self) -> Path:
        return self.root / "autograder" / "build" / self.assignment / "nbgrader"

    @property
    def nbgrader_source(self) -> Path:
        return self.nbgrader_dir / "source" / self.assignment / f"{self.assignment}.ipynb"

    @property
    def otter_dir(self) -> Path:
        return self.root / "autograder" / "build" / self.assignment / "otter"

    @property
    def examples_dir(self) -> Path:
        return self.root / "autograder" / "examples" / self.assignment / "submissions"

    @property
    def otter_zip(self) -> Path:
        return self.otter_dir / "autograder.zip"

    def committed(self) -> list[Path]:
        """Every generated text file that is committed (the drift test compares these)."""
        files = [self.student_notebook, self.nbgrader_source, self.nbgrader_dir / "nbgrader_config.py",
                 self.otter_dir / "otter_config.json"]
        files += sorted(self.student_dir.glob("tests/*.py")) + sorted(self.nbgrader_source.parent.glob("tests/*.py"))
        files += sorted((self.otter_dir / "tests").glob("*.py"))
        files += sorted(self.examples_dir.glob("*.ipynb"))
        return files


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


def build_otter_zip(paths: ReleasePaths, target: Path | None = None) -> Path:
    """``otter generate`` over the hidden capture tests, shipping the kernel-side capture module
    (``autograder/kernel.py`` and what it imports) as support files at the submission's root."""
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp)
        shutil.copytree(paths.otter_dir / "tests", stage / "tests")
        shutil.copy(paths.otter_dir / "otter_config.json", stage / "otter_config.json")
        support = []
        for name in ("__init__.py", "kernel.py", "reference.py", "paths.py"):
            (stage / "autograder").mkdir(exist_ok=True)
            shutil.copy(REPO / "autograder" / name, stage / "autograder" / name)
            support.append(f"autograder/{name}")
        cmd = [sys.executable, "-m", "otter", "generate", "-t", "tests", "-o", "autograder.zip",
               "-c", "otter_config.json", "--no-requirements", "--no-environment", *support]
        proc = subprocess.run(cmd, cwd=stage, capture_output=True, text=True, env=tool_env())
        if proc.returncode != 0:
            raise RuntimeError(f"otter generate failed:\n{proc.stdout}\n{proc.stderr}")
        target = Path(target or paths.otter_zip)
        shutil.copy(stage / "autograder.zip", target)
    return target


def release(assignment: str, root: Path = REPO, build_zip: bool = True) -> ReleasePaths:
    """Generate every artefact of ``assignment`` under ``root``; return where they are."""
    module = assignments.get(assignment)
    paths = ReleasePaths(Path(root), assignment)
    ref = reference.load(assignment)
    solution_nb = notebooks.read(REPO / "solutions" / assignment / f"{assignment}.ipynb")
    points = module.cases.QUESTIONS

    # Public self-check tests (student side), rendered with the reference's expected values.
    public = {q: module.public.render(q, ref) for q in module.public.TEMPLATES}

    # nbgrader course tree: config + source (solution notebook + hidden capture cells + public tests).
    paths.nbgrader_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "autograder" / "nbgrader_config.py", paths.nbgrader_dir / "nbgrader_config.py")
    source_dir = paths.nbgrader_source.parent
    if source_dir.exists():
        shutil.rmtree(source_dir)
    notebooks.write(nbgrader_source(solution_nb, points), paths.nbgrader_source)
    for q, text in public.items():
        _write(source_dir / "tests" / f"{q}.py", text)

    # nbgrader's release (throwaway gradebook) -> the committed student notebook and tests.
    with tempfile.TemporaryDirectory() as tmp:
        released = run_nbgrader_generate(paths.nbgrader_dir, assignment, f"sqlite:///{tmp}/gradebook.db")
        student = student_notebook(notebooks.read(released))
    if paths.student_dir.exists():
        shutil.rmtree(paths.student_dir)
    notebooks.write(student, paths.student_notebook)
    for q, text in public.items():
        _write(paths.student_dir / "tests" / f"{q}.py", text)

    # otter: hidden capture tests + config (+ the zip).
    tests_dir = paths.otter_dir / "tests"
    if tests_dir.exists():
        shutil.rmtree(tests_dir)
    for q, pts in points.items():
        _write(tests_dir / f"{q}.py", OTTER_HIDDEN_TEST.format(q=q, points=pts))
    _write(paths.otter_dir / "otter_config.json", json.dumps(OTTER_CONFIG, indent=2) + "\n")
    if build_zip:
        build_otter_zip(paths)

    # Example submissions (fixtures of the grading tests).
    if paths.examples_dir.exists():
        shutil.rmtree(paths.examples_dir)
    build_examples(assignment, paths.student_notebook, REPO / "solutions" / assignment / f"{assignment}.ipynb",
                   paths.examples_dir)
    return paths


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
