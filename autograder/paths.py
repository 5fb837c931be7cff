"""Where things live in the repository (one place, so that every module agrees)."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = REPO / "solutions"  # instructor sources: solutions/<aN>/<aN>.ipynb
ASSIGNMENTS = REPO / "assignments"  # student releases, committed: assignments/<aN>/
BUILD = REPO / "autograder" / "build"  # generated instructor artefacts: build/<aN>/{nbgrader,otter}
EXAMPLES = REPO / "autograder" / "examples"  # example submissions: examples/<aN>/submissions/


def solution_notebook(assignment: str) -> Path:
    """The single source of an assignment: solutions/<aN>/<aN>.ipynb."""
    return SOLUTIONS / assignment / f"{assignment}.ipynb"
