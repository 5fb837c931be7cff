"""Where things live in the repository (one place, so that every module agrees)."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = REPO / "solutions"  # instructor sources: solutions/<aN>/<aN>.ipynb
ASSIGNMENTS = REPO / "assignments"  # student releases, committed: assignments/<aN>/
# The grading code that runs inside the student's kernel (it decides nothing): shipped to otter and
# exposed to the sandbox. ``checks`` runs the self-checks, ``forbidden`` watches for forbidden calls.
KERNEL_SIDE = ("__init__.py", "kernel.py", "checks.py", "forbidden.py", "reference.py", "paths.py",
               "defaults.py")
BUILD = REPO / "autograder" / "build"  # generated on demand, not committed: build/<aN>/{nbgrader,otter,...}

