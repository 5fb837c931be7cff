"""Every assignment in the registry, without a kernel: the reference scores full marks, the blank
release scores 0, and each example mistake loses points in its own question only. Adding an
assignment (``solutions/<aN>/``) adds its rows here with no new test code."""

from __future__ import annotations

import ast
import copy
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
        self._trained: dict[int, dict] = {}

    def namespace(self, old: str | None = None, new: str | None = None) -> dict:
        """The solution's library cells as a fresh module, optionally with one text substitution; the
        cells a notebook runs after its solutions (``-given``) run too, in notebook order.

        A training cell (``-train-given``) runs once per assignment: a variant whose substitution reaches
        nothing the training uses (no name it refers to, directly or through the cells defining them, is
        rebound by a changed cell) gets copies of the reference's trained values instead of training again.
        """
        cells = [(cell.source, reference.is_training(cell)) for cell in notebooks.read(self.a.notebook).cells
                 if cell.cell_type == "code" and reference.grade_id(cell).endswith(reference.LIBRARY_SUFFIXES)]
        if old is not None:
            assert sum(source.count(old) for source, _ in cells) == 1
        module = types.ModuleType(f"variant_{self.a.name}_{abs(hash((old, new)))}")
        sys.modules[module.__name__] = module
        env = module.__dict__
        env.update(np=np, dataclass=dataclasses.dataclass, field=dataclasses.field)
        changed: set[str] = set()  # names a changed cell (or one depending on it) binds
        for k, (source, training) in enumerate(cells):
            edited = source.replace(old, new) if old is not None else source
            bound, used = _names(edited)
            if training and not used & changed and (old is not None or k in self._trained):
                env.update(copy.deepcopy(self.trained(k)))
                continue
            exec(compile(edited, f"<{self.a.name} cell {k}>", "exec"), env)
            if edited != source or used & changed:
                changed |= bound
            if training and old is None:
                self._trained.setdefault(k, {n: env[n] for n in bound if n in env})
        return env

    def trained(self, k: int) -> dict:
        """What the reference's training cell ``k`` binds (its trained model, losses...)."""
        if k not in self._trained:
            self.namespace()
        return self._trained[k]

    def score(self, env: dict) -> dict[str, float]:
        """Grade a namespace the way the pipeline does (capture, then verdicts), without a kernel."""
        captured = {}
        for entry in self.manifest["cases"]:
            try:
                captured[entry["id"]] = run_case(entry, self.arrays, env, self.ref)
            except Exception as exc:
                captured[entry["id"]] = {"error": np.array(repr(exc))}
        return {q: score_question(q, m, self.cases, captured, self.ref).score for q, m in self.a.questions.items()}


def _names(source: str) -> tuple[set[str], set[str]]:
    """(names a cell binds at its top level, names it refers to anywhere), conservatively: a name whose
    attribute or item the cell sets counts as bound, and an attribute name counts as a reference."""
    bound, used = set(), set()
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            used.add(node.id)
        elif isinstance(node, ast.Attribute):
            used.add(node.attr)
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(statement.name)
        elif isinstance(statement, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in statement.names}
        nested = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
        stack = [] if isinstance(statement, nested) else [statement]
        while stack:
            node = stack.pop()
            if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)):
                base = node
                while isinstance(base, (ast.Attribute, ast.Subscript)):
                    base = base.value
                if isinstance(base, ast.Name):
                    bound.add(base.id)
            stack += [child for child in ast.iter_child_nodes(node) if not isinstance(child, nested)]
    return bound, used


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
