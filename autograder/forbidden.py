"""Forbidden calls: a graded function that delegates to a library's implementation of itself earns nothing.

A spec may define ``FORBIDDEN = {"q1": ("utils.rnn.rnn_step_forward", "torch.nn.RNNCell", ...), ...}``:
per question, dotted names of functions, classes (all their methods) or modules (every function and
class defined in them). A hidden case of that question fails if the student's function, while the
case calls it, calls one of them. Two checks, both run in the student's kernel by ``autograder.kernel``:

* **static**: the names the function's code refers to (``co_names``, recursively into nested code and
  into the notebook functions it calls) resolved against its globals: ``utils.rnn.rnn_step_forward(...)``,
  ``from torch import nn; nn.RNNCell``, an alias ``F.cross_entropy``. A forbidden name the code merely
  mentions counts, so ``sys.setprofile(None)`` inside the answer hides nothing;
* **dynamic**: a ``sys.setprofile`` hook during the call matches every Python ``call`` (by code object)
  and builtin ``c_call`` (by object) against the forbidden names, which catches indirect routes
  (``getattr``, a helper module, ``importlib``).

Calls made inside a substitute (an earlier question's function served by the grader, see
``autograder.substitutes``) are not watched: they are not the student's calls. The public self-check
runs the static check too, so a student learns it before grading.

What it does not stop: code copied from the package's source into the notebook (that is what
``python -m autograder similarity`` is for), a call made from another thread, or a forbidden
function reached only through a C extension that calls it without Python.
"""

from __future__ import annotations

import dis
import importlib
import re
import sys
import types
from contextlib import contextmanager


class ForbiddenNameError(LookupError):
    """A FORBIDDEN entry that names nothing importable."""


def question_words(question: str) -> str:
    """``"q1"`` -> ``"question 1"`` (any other id as it is)."""
    match = re.fullmatch(r"q(\d+)", question)
    return f"question {match.group(1)}" if match else question


def message(fn: str, name: str, question: str) -> str:
    return (f"`{fn}` calls `{name}`, which {question_words(question)} does not allow: "
            f"write the computation yourself")


def resolve(name: str, import_missing: bool = True):
    """The object a dotted name means (a module, class or function); ``None`` when ``import_missing`` is
    false and its top-level package is not imported yet. Raises ``ForbiddenNameError``."""
    parts = name.split(".")
    if not import_missing and parts[0] not in sys.modules:
        return None
    obj, start = None, 0
    for end in range(len(parts), 0, -1):  # the longest importable module prefix
        try:
            obj = importlib.import_module(".".join(parts[:end]))
            start = end
            break
        except ImportError:
            continue
        except Exception as exc:  # a package that fails on import
            raise ForbiddenNameError(f"{name}: importing it raised {type(exc).__name__}: {exc}") from exc
    if obj is None:
        raise ForbiddenNameError(f"{name}: no module {parts[0]!r} can be imported")
    for part in parts[start:]:
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ForbiddenNameError(f"{name}: {'.'.join(parts[:parts.index(part)])} has no attribute {part!r}") \
                from None
    return obj


def _members(obj) -> list:
    """What calling ``obj`` may run: a module's functions and classes, a class's methods."""
    if isinstance(obj, types.ModuleType):
        found = []
        for value in list(vars(obj).values()):
            if getattr(value, "__module__", None) == obj.__name__ and (callable(value)):
                found += [value] + (_members(value) if isinstance(value, type) else [])
        return found
    if isinstance(obj, type):
        found = []
        for value in vars(obj).values():
            value = getattr(value, "__func__", value)  # staticmethod, classmethod
            if callable(value):
                found.append(value)
        return found
    return []


class Targets:
    """The resolved forbidden names of one question: code objects, builtins and objects to match."""

    def __init__(self, names, import_missing: bool = True, mentioned: set[str] = frozenset()):
        self.names = tuple(names)
        self.codes: dict = {}  # code object -> forbidden name
        self.builtins: dict = {}  # id(builtin) -> forbidden name
        self.objects: dict = {}  # id(object) -> forbidden name (the static check)
        self.keep: list = []  # the objects whose ids are keys above
        self.modules: dict = {}  # module name -> [(forbidden name, attribute path, member names)]
        for name in self.names:
            obj = resolve(name, import_missing or name.split(".")[0] in mentioned)
            if obj is None:
                continue
            for value in [obj] + _members(obj):
                self._add(name, value)
            top, _, rest = name.partition(".")
            members = {getattr(m, "__name__", "") for m in _members(obj)} if isinstance(obj, types.ModuleType) else set()
            path = name.split(".")
            for cut in range(1, len(path)):
                self.modules.setdefault(".".join(path[:cut]), []).append((name, tuple(path[cut:]), members))

    def _add(self, name: str, value) -> None:
        self.keep.append(value)
        self.objects.setdefault(id(value), name)
        value = getattr(value, "__wrapped__", value)
        code = getattr(value, "__code__", None)
        if isinstance(code, types.CodeType):
            self.codes.setdefault(code, name)
        elif callable(value) and not isinstance(value, (type, types.ModuleType)):
            self.builtins.setdefault(id(value), name)
            self.keep.append(value)


def code_names(code: types.CodeType) -> set[str]:
    """Every name the code refers to; ``import utils.rnn`` also gives ``utils`` and ``rnn``."""
    names = set(code.co_names)
    names |= {part for name in code.co_names if "." in name for part in name.split(".")}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= code_names(const)
    return names


def mentioned_modules(fn, env: dict, skip=()) -> set[str]:
    """Top-level names the function (and the notebook functions it calls) refer to: ``{"torch", ...}``."""
    names: set[str] = set()
    for function in _notebook_closure(fn, env, skip):
        names |= code_names(function.__code__)
    return names


def _notebook_closure(fn, env: dict, skip=()) -> list:
    """``fn`` and the notebook functions its code refers to, recursively (``skip``: substituted ones)."""
    seen, order, todo = set(), [], [fn]
    while todo:
        function = todo.pop()
        code = getattr(function, "__code__", None)
        if not isinstance(code, types.CodeType) or code in seen:
            continue
        seen.add(code)
        order.append(function)
        for name in code_names(code):
            value = env.get(name)
            if (name not in skip and isinstance(value, types.FunctionType) and value.__globals__ is env):
                todo.append(value)
    return order


def _imports(code: types.CodeType):
    """``(module, name)`` for each ``from module import name`` and ``(module, None)`` for ``import module``
    in ``code`` and its nested code."""
    module = None
    for instruction in dis.get_instructions(code):
        if instruction.opname == "IMPORT_NAME":
            module = instruction.argval
            yield module, None
        elif instruction.opname == "IMPORT_FROM" and module is not None:
            yield module, instruction.argval
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _imports(const)


def static_hit(fn, env: dict, targets: Targets, skip=()) -> str | None:
    """The forbidden name ``fn``'s code (or a notebook function it calls) refers to, else ``None``."""
    for function in _notebook_closure(fn, env, skip):
        names = code_names(function.__code__)
        for module, name in _imports(function.__code__):  # an import inside the function
            dotted = module if name is None else f"{module}.{name}"
            for forbidden in targets.names:
                if dotted == forbidden or dotted.startswith(forbidden + ".") or (
                        name is not None and module == forbidden):
                    return forbidden
                if name is None and forbidden.startswith(module + ".") and all(
                        part in names for part in forbidden[len(module) + 1:].split(".")):
                    return forbidden  # import utils.rnn ... utils.rnn.rnn_step_forward(...)
        for name in names:
            if name in skip or name not in function.__globals__:
                continue
            value = function.__globals__[name]
            hit = targets.objects.get(id(value))
            if hit is not None:
                return hit
            if isinstance(value, types.ModuleType):
                for forbidden, path, members in targets.modules.get(value.__name__, ()):
                    last = path[-1]
                    if last in function.__globals__ and id(function.__globals__[last]) not in targets.objects:
                        continue  # ``rnn_step_forward`` is also the notebook's own function: ambiguous
                    if all(part in names for part in path) and (not members or members & names):
                        return forbidden
    return None


class Watch:
    """A profile hook that records the first forbidden call made while it is installed."""

    def __init__(self, targets: Targets):
        self.hit: str | None = None
        codes, builtins = targets.codes, targets.builtins

        def hook(frame, event, arg):
            if event == "call":
                name = codes.get(frame.f_code)
            elif event == "c_call":
                name = builtins.get(id(arg))
            else:
                return
            if name is not None and self.hit is None:
                self.hit = name

        self.hook = hook

    @contextmanager
    def watching(self):
        previous = sys.getprofile()
        sys.setprofile(self.hook)
        try:
            yield self
        finally:
            if sys.getprofile() is not self.hook and self.hit is None:
                self.hit = "sys.setprofile"  # the answer turned the watch off
            sys.setprofile(previous)


def unwatched(fn):
    """``fn`` with the profile hook off while it runs (a grader substitute: not the student's calls)."""

    def call(*args, **kwargs):
        previous = sys.getprofile()
        sys.setprofile(None)
        try:
            return fn(*args, **kwargs)
        finally:
            sys.setprofile(previous)

    call.__name__ = getattr(fn, "__name__", "substitute")
    call.__wrapped_substitute__ = True
    return call


def public_watch(question: str, functions, env: dict, names):
    """The self-check's part: (lines for graded functions whose code refers to a forbidden name, a
    ``Watch`` to run the checks under, or ``None`` when the names do not resolve in this kernel)."""
    graded = [(name, env[name]) for name in functions if isinstance(env.get(name), types.FunctionType)]
    mentioned = set().union(*(mentioned_modules(fn, env) for _, fn in graded))
    try:
        targets = Targets(names, import_missing=False, mentioned=mentioned)
    except ForbiddenNameError:
        return [], None
    lines = []
    for name, fn in graded:
        hit = static_hit(fn, env, targets)
        if hit is not None:
            lines.append(message(name, hit, question))
    return lines, Watch(targets)
