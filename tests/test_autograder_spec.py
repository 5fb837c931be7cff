"""Every assignment in the registry, without a kernel: the reference scores full marks, the blank
release scores 0, and each example mistake loses points in its own question only. Adding an
assignment (``solutions/<aN>/``) adds its rows here with no new test code."""

from __future__ import annotations

import dataclasses
import sys
import types

import numpy as np
import pytest

from autograder import assignments, notebooks, reference
from autograder.cases import manifest_and_arrays
from autograder.kernel import run_case
from autograder.scoring import score_question
from conftest import ASSIGNMENT_NAMES

MISTAKE_ROWS = [(a, m) for a in ASSIGNMENT_NAMES for m in assignments.get(a).mistakes]


class Graded:
    """One assignment's reference, cases and manifest, made once per assignment (module scope)."""

    def __init__(self, name: str):
        self.a = assignments.get(name)
        self.ref = reference.load(name)
        self.cases = self.a.spec.hidden_cases(self.ref)
        self.manifest, self.arrays = manifest_and_arrays(name, self.cases, self.a.forbidden)

    def namespace(self, old: str | None = None, new: str | None = None) -> dict:
        """The solution's library cells as a fresh module, optionally with one text substitution; the
        cells a notebook runs after its solutions (``-given``) run too, in notebook order."""
        source = "\n\n".join(reference.library_cells(notebooks.read(self.a.notebook)))
        if old is not None:
            assert source.count(old) == 1
            source = source.replace(old, new)
        module = types.ModuleType(f"variant_{self.a.name}_{abs(hash((old, new)))}")
        sys.modules[module.__name__] = module
        module.__dict__.update(np=np, dataclass=dataclasses.dataclass, field=dataclasses.field)
        exec(source, module.__dict__)
        return module.__dict__

    def score(self, env: dict) -> dict[str, float]:
        """Grade a namespace the way the pipeline does (capture, then verdicts), without a kernel."""
        captured = {}
        for entry in self.manifest["cases"]:
            try:
                captured[entry["id"]] = run_case(entry, self.arrays, env, self.ref)
            except Exception as exc:
                captured[entry["id"]] = {"error": np.array(repr(exc))}
        return {q: score_question(q, m, self.cases, captured, self.ref).score for q, m in self.a.questions.items()}


_GRADED: dict[str, Graded] = {}


def graded(name: str) -> Graded:
    if name not in _GRADED:
        _GRADED[name] = Graded(name)
    return _GRADED[name]


def test_the_torch_fixture_is_registered():
    assert {"a1", "t1"} <= set(ASSIGNMENT_NAMES)


@pytest.mark.parametrize("name", ASSIGNMENT_NAMES)
def test_points_agree(name):
    g = graded(name)
    for q, points in g.a.questions.items():
        assert sum(c.points for c in g.cases if c.question == q) == points


@pytest.mark.parametrize("name", ASSIGNMENT_NAMES)
def test_reference_scores_full_marks(name):
    g = graded(name)
    assert g.score(g.namespace()) == g.a.questions


@pytest.mark.parametrize("name", ASSIGNMENT_NAMES)
def test_blank_scores_zero(name):
    g = graded(name)
    env = g.namespace()
    student_functions = {c.fn for c in g.cases} | {c.bwd for c in g.cases if c.bwd}
    for fn in student_functions:
        if callable(env.get(fn)):
            def stub(*args, **kwargs):
                raise NotImplementedError()
            env[fn] = stub
        else:
            env.pop(fn, None)  # a value the notebook computes with the student's code (a trained model)
    assert all(score == 0 for score in g.score(env).values())


@pytest.mark.parametrize("name,mistake", MISTAKE_ROWS)
def test_each_mistake_loses_points_only_in_its_question(name, mistake):
    g = graded(name)
    m = g.a.mistakes[mistake]
    scores = g.score(g.namespace(m.old, m.new))
    for q, maximum in g.a.questions.items():
        if q == m.question:
            assert scores[q] < maximum, f"{mistake} should lose points in {q}"
        else:
            assert scores[q] == maximum, f"{mistake} should keep full marks in {q}, got {scores[q]}"
