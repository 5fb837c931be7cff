"""The registry of assignments, discovered from ``solutions/*/spec.py``.

A *course root* is a folder with ``solutions/<aN>/{<aN>.ipynb, spec.py}`` (what the instructor writes)
and ``assignments/<aN>/`` (the student release, generated). The repository is one; more can be added
with ``RECURRENT_COURSE_ROOTS`` (``os.pathsep``-separated), which the tests use for their torch fixture.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from . import spec as spec_module
from .paths import REPO

ROOTS_ENV = "RECURRENT_COURSE_ROOTS"


@dataclass(frozen=True)
class Assignment:
    """One assignment: its two authored files, and where its student release lives."""

    name: str
    root: Path  # the course root holding solutions/<name>/ and assignments/<name>/

    @property
    def solutions_dir(self) -> Path:
        return self.root / "solutions" / self.name

    @property
    def notebook(self) -> Path:
        return self.solutions_dir / f"{self.name}.ipynb"

    @property
    def spec_path(self) -> Path:
        return self.solutions_dir / "spec.py"

    @property
    def release_dir(self) -> Path:
        return self.root / "assignments" / self.name

    @property
    def student_notebook(self) -> Path:
        return self.release_dir / f"{self.name}.ipynb"

    @property
    def spec(self):
        return spec_module.load(self.spec_path, self.name)

    @property
    def questions(self) -> dict[str, float]:
        return dict(self.spec.QUESTIONS)

    @property
    def mistakes(self) -> dict:
        return dict(self.spec.MISTAKES)

    @property
    def forbidden(self) -> dict:
        """Per question, the names its graded functions must not call (``autograder.forbidden``)."""
        return dict(getattr(self.spec, "FORBIDDEN", {}))

    def relative(self, path) -> str:
        """``path`` relative to the course root when it is inside it (for messages)."""
        try:
            return str(Path(path).resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path)


def roots() -> list[Path]:
    extra = [Path(p) for p in os.environ.get(ROOTS_ENV, "").split(os.pathsep) if p]
    return list(dict.fromkeys([REPO, *extra]))


def discover() -> dict[str, Assignment]:
    found: dict[str, Assignment] = {}
    for root in roots():
        for spec_path in sorted((root / "solutions").glob("*/spec.py")):
            name = spec_path.parent.name
            found.setdefault(name, _assignment(name, root))
    return found


_CACHE: dict[tuple[str, Path], Assignment] = {}


def _assignment(name: str, root: Path) -> Assignment:
    key = (name, Path(root).resolve())
    if key not in _CACHE:
        _CACHE[key] = Assignment(name, Path(root).resolve())
    return _CACHE[key]


def names() -> list[str]:
    return list(discover())


def get(name: str) -> Assignment:
    found = discover()
    if name not in found:
        raise KeyError(f"unknown assignment {name!r}; known: {', '.join(found) or 'none'} "
                       f"(from {', '.join(str(r / 'solutions') for r in roots())})")
    return found[name]


# the names known at import time, for command-line choices
ASSIGNMENTS = tuple(names())
