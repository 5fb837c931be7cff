"""Shared set-up of the test suite.

* The torch fixture assignment ``t1`` (``tests/fixtures/``, a course root of its own) joins the registry
  for every test and every subprocess a test starts (``RECURRENT_COURSE_ROOTS``), so that the
  autograder tests, parametrised over ``assignments.names()``, cover it with no test code of its own.
* Heavy set-up lives in session fixtures, not at import time: ``examples`` builds an assignment's
  example submissions once per session into a temporary folder.

Test tiers (markers, see the README): ``make test`` runs everything; ``make test-fast`` deselects
``notebook`` (executes notebooks: lectures, engines), ``engine`` (nbgrader/otter runs), ``stress``
(sandbox limits and escapes), ``slow`` (training runs, lecture code) and ``browser``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
_roots = [p for p in os.environ.get("RECURRENT_COURSE_ROOTS", "").split(os.pathsep) if p]
if str(FIXTURES) not in _roots:
    os.environ["RECURRENT_COURSE_ROOTS"] = os.pathsep.join([*_roots, str(FIXTURES)])

from autograder import assignments  # noqa: E402  (after the registry is told about the fixture)

ASSIGNMENT_NAMES = assignments.names()


@pytest.fixture(scope="session")
def examples(tmp_path_factory):
    """``examples(name) -> folder`` of the example submissions of ``name``, built once per session."""
    from autograder.examples import build_examples

    built: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in built:
            out = tmp_path_factory.mktemp(f"examples-{name}")
            build_examples(name, out)
            built[name] = out
        return built[name]

    return get
