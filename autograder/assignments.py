"""The registry of assignments: name -> the instructor-side module (questions, hidden cases, public tests)."""

from __future__ import annotations

import importlib
from types import ModuleType

ASSIGNMENTS = ("a1",)


def get(assignment: str) -> ModuleType:
    """The package ``autograder.<assignment>`` with ``cases`` and ``public`` submodules."""
    if assignment not in ASSIGNMENTS:
        raise KeyError(f"unknown assignment {assignment!r}; known: {', '.join(ASSIGNMENTS)}")
    module = importlib.import_module(f"autograder.{assignment}")
    importlib.import_module(f"autograder.{assignment}.cases")
    importlib.import_module(f"autograder.{assignment}.public")
    return module
