"""Pre-flight check of an assignment's spec against its notebook, before anything is generated.

Each problem names the file and line to fix: every function a hidden case names exists in the
reference; every question has its text cell, its solution and its ``grader.check`` cell; the points in
the spec, the question headings and the cases agree; every example mistake's text occurs exactly once
inside a solution region; every self-check runs on the reference (``autograder.public``).
"""

from __future__ import annotations

import inspect
import re

from . import assignments, forbidden, notebooks, reference

POINTS_RE = re.compile(r"\(([0-9]+(?:\.[0-9]+)?) points?\)")


class PreflightError(ValueError):
    """One or more problems, one per line, each starting with ``file:line:``."""


def _line_of(text: str, needle: str) -> int:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else 1


def problems(name: str) -> list[str]:
    a = assignments.get(name)
    spec_file, nb_file = a.relative(a.spec_path), a.relative(a.notebook)
    spec_text = a.spec_path.read_text(encoding="utf-8")
    found: list[str] = []
    nb = notebooks.read(a.notebook)
    by_id = {notebooks.grade_id(c): c for c in nb.cells if notebooks.grade_id(c)}
    questions = a.questions
    q_line = _line_of(spec_text, "QUESTIONS")

    for q, points in questions.items():
        text = by_id.get(f"{q}-text")
        if text is None:
            found.append(f"{nb_file}: question {q} has no markdown cell with grade id {q}-text "
                         f"({spec_file}:{q_line} lists it)")
        else:
            heading = POINTS_RE.search(text.source)
            if heading is None or float(heading.group(1)) != float(points):
                said = heading.group(0) if heading else "no '(N points)'"
                found.append(f"{nb_file}: the heading of {q} says {said}, {spec_file}:{q_line} gives {points:g} points")
        check = by_id.get(f"{q}-check")
        if check is None or check.source.strip() != f'grader.check("{q}")':
            found.append(f"{nb_file}: question {q} needs a locked cell {q}-check holding exactly grader.check(\"{q}\")")
        if q not in a.spec.PUBLIC:
            found.append(f"{spec_file}: PUBLIC has no self-checks for {q}")
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("points") is not None and meta.get("grade"):
            q = notebooks.grade_id(cell).split("-")[0]
            if questions.get(q) != meta["points"]:
                found.append(f"{nb_file}: cell {notebooks.grade_id(cell)} carries {meta['points']} points in its "
                             f"nbgrader metadata, {spec_file}:{q_line} gives {questions.get(q)}")

    ref = reference.load(name)
    cases = a.spec.hidden_cases(ref)
    for case in cases:
        where = a.relative(case.origin.rsplit(":", 1)[0]) + ":" + case.origin.rsplit(":", 1)[-1]
        if case.question not in questions:
            found.append(f"{where}: case {case.id} belongs to {case.question}, which QUESTIONS does not list")
        names = [case.fn] if case.call != "global" else []
        names += [case.bwd] if case.bwd else []
        names += list(case.patch)
        for fn in names:
            if not callable(getattr(ref, fn, None)):
                found.append(f"{where}: case {case.id} names {fn}, which {nb_file} does not define")
    for q, points in questions.items():
        total = sum(c.points for c in cases if c.question == q)
        if abs(total - points) > 1e-9:
            found.append(f"{spec_file}:{q_line}: {q} is worth {points:g} points but its hidden cases add up to {total:g}")

    found += _forbidden_problems(a, spec_file, spec_text, questions, cases, ref)

    regions = notebooks.solution_regions(nb)
    for mname, mistake in a.mistakes.items():
        line = _line_of(spec_text, f'"{mname}"')
        hits = sum(region.count(mistake.old) for region in regions)
        in_cells = sum(c.source.count(mistake.old) for c in nb.cells if c.cell_type == "code")
        if hits != 1:
            found.append(f"{spec_file}:{line}: the text of mistake {mname} occurs {hits} times in the solution "
                         f"regions of {nb_file}, it must occur exactly once")
        elif in_cells != 1:
            found.append(f"{spec_file}:{line}: the text of mistake {mname} also occurs outside its solution region "
                         f"in {nb_file} ({in_cells} times in all): make it longer, so that it is unique")
        if mistake.question not in questions:
            found.append(f"{spec_file}:{line}: mistake {mname} names {mistake.question}, not a question")
    trained = reference.training_names(nb)
    for q, fns in a.spec.PUBLIC.items():
        for fn in fns:
            for param in inspect.signature(fn).parameters:
                if not hasattr(ref, param) and param not in trained:
                    line = inspect.getsourcelines(fn)[1]
                    found.append(f"{spec_file}:{line}: self-check {fn.__name__} takes {param}, which {nb_file} "
                                 f"does not define")
    return found


def _forbidden_problems(a, spec_file, spec_text, questions, cases, ref) -> list[str]:
    """Every FORBIDDEN name resolves, belongs to a question, and the reference's graded functions call none."""
    found: list[str] = []
    line = _line_of(spec_text, "FORBIDDEN")
    env = vars(ref)
    for q, names in getattr(a.spec, "FORBIDDEN", {}).items():
        if q not in questions:
            found.append(f"{spec_file}:{line}: FORBIDDEN names {q}, which QUESTIONS does not list")
            continue
        if isinstance(names, str):
            found.append(f"{spec_file}:{line}: FORBIDDEN[{q!r}] must be a tuple of dotted names, not a string")
            continue
        try:
            targets = forbidden.Targets(names)
        except forbidden.ForbiddenNameError as exc:
            found.append(f"{spec_file}:{line}: FORBIDDEN[{q!r}] names {exc}")
            continue
        graded = {n for c in cases if c.question == q and c.call != "global" for n in (c.fn, c.bwd) if n}
        skip = {n for c in cases if c.question == q for n in c.patch}
        for fn in sorted(graded):
            hit = forbidden.static_hit(getattr(ref, fn, None), env, targets, skip) if callable(getattr(ref, fn, None)) else None
            if hit is not None:
                found.append(f"{spec_file}:{line}: the reference's {fn} calls {hit}, which FORBIDDEN[{q!r}] forbids")
    return found


def preflight(name: str) -> None:
    """Raise ``PreflightError`` listing every problem of assignment ``name``; return quietly if none."""
    found = problems(name)
    if found:
        raise PreflightError(f"release of {name} stopped; fix:\n" + "\n".join(found))
