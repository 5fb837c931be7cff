"""What an assignment's spec (``solutions/<aN>/spec.py``) is made of, and how it is loaded.

A spec is a plain Python module next to the solution notebook. It defines

* ``QUESTIONS = {"q1": points, ...}``: the questions in order and their points;
* ``hidden_cases(ref) -> list[Case]``: the hidden cases (``autograder.cases.Case``), built with the
  reference namespace ``ref`` (the notebook's library cells) when inputs depend on it;
* ``PUBLIC = {"q1": [check, ...], ...}``: the self-check functions (``autograder.checks``); module-level
  constants they use are copied into the student's test file as literals, ``FromReference`` values
  are computed with the reference first (a cache made by the reference forward, for example);
* ``FORBIDDEN = {"q1": ("utils.rnn.rnn_step_forward", "torch.nn.RNNCell"), ...}`` (optional): per
  question, dotted names of functions, classes or modules its graded functions must not call
  (``autograder.forbidden``); a hidden case that calls one fails with a message naming it;
* ``MISTAKES = {name: Mistake(question, old, new, what)}``: example submissions, each the reference with
  ``old`` replaced by ``new`` once inside a solution region; each must lose points in ``question`` only.

Nothing else is authored per assignment: ``python -m autograder release aN`` derives the rest.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, NamedTuple

from .cases import Case, Config, Global, Outcome, Rng  # noqa: F401  (what a spec imports)


class Mistake(NamedTuple):
    """An example submission: the reference with ``old`` replaced by ``new`` (once, in a solution region)."""

    question: str
    old: str
    new: str
    what: str
    says: str = ""  # words the failing self-check of ``question`` must print (it names the faulty term)


@dataclass(frozen=True)
class FromReference:
    """A self-check constant computed with the reference at release time: ``compute(ref)``."""

    compute: Callable[[Any], Any]


def load(path: Path, name: str):
    """Import the spec at ``path`` as the module ``recurrent_spec_<name>`` (cached in ``sys.modules``)."""
    module_name = f"recurrent_spec_{name}"
    stamp = (str(path), Path(path).stat().st_mtime_ns)
    cached = sys.modules.get(module_name)
    if cached is not None and getattr(cached, "__stamp__", None) == stamp:
        return cached
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    module.__stamp__ = stamp  # reloaded when the file changes
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    for attribute in ("QUESTIONS", "hidden_cases", "PUBLIC", "MISTAKES"):
        if not hasattr(module, attribute):
            raise AttributeError(f"{path}: a spec must define {attribute} (see autograder/spec.py)")
    return module
