"""Mutation testing of the hidden tests: one-token mutants of every solution region, graded in process.

    python -m bench.mutants [--assignment a1] [--jobs 2] [--write bench/mutants.md]

Each mutant changes one token of one solution region of ``solutions/<aN>/<aN>.ipynb``: an operator
swapped (``+``/``-``, ``*``/``/``, ``@``/``*``, comparisons), a term dropped (``+ b``, ``.T``, a unary
minus), a constant changed (``k`` -> ``k + 1``, which also moves an ``axis=``), or a name swapped
(``min``/``max``, ``True``/``False``). The mutated library cells are graded like a submission (the
kernel-side capture, then the verdicts), for the question whose region was mutated; a mutant is
*killed* when that question loses points (or the code no longer runs). Survivors are listed with their
diff, to be judged equivalent or not by hand.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import multiprocessing
import signal
import sys
import time
import tokenize
import types
from pathlib import Path

import numpy as np

SWAPS = {"+": ["-"], "-": ["+"], "*": ["/", "+"], "/": ["*"], "@": ["*"], "**": ["*"], "<": ["<="], "<=": ["<"],
         ">": [">="], ">=": [">"], "==": ["!="], "!=": ["=="], "+=": ["="], "-=": ["+="], "*=": ["/="], "/=": ["*="]}
NAME_SWAPS = {"min": "max", "max": "min", "True": "False", "False": "True", "sum": "max", "mean": "sum",
              "reversed": "list", "exp": "abs", "log": "abs", "sqrt": "abs", "tanh": "abs"}
TIME_LIMIT_S = 60

# Survivors judged by hand (mutated line -> why it is equivalent); any other survivor is reported as
# "not judged" and is a gap in the hidden tests until a case kills it.
EQUIVALENT = {
    "count = max(mask.sum(), 1.0)  # M, the number of scored positions":
        "m_flat is mask as floats: the same count",
    "z = z - z.max(axis=+1, keepdims=True)  # stability": "scores are (N, V): axis 1 is axis -1",
    "probs = e / e.sum(axis=+1, keepdims=True)": "scores are (N, V): axis 1 is axis -1",
    'H = params["W_hh"].shape[1]': "W_hh is square",
    "h = np.zeros((2, H))": "both rows of h stay equal (the same input), and row 0 is the one sampled from",
    "for length in range(length):": "range(length) is evaluated once; the loop variable is unused",
    "for inputs in range(config.steps):": "inputs is reassigned by get_batch before every use",
    "demb, inputs, dW_ih, dW_hh, db_ih, db_hh = rnn_backward(dh, rnn_cache)":
        "inputs is reassigned by get_batch at the next step before any use",
}


@dataclasses.dataclass
class Mutant:
    question: str
    region: int  # index of the solution region in the notebook
    line: str  # the mutated line, before
    after: str  # ... and after
    start: int  # character offsets in the region's text
    end: int
    replacement: str


def _regions(nb):
    """(question, cell index, start, end) of each solution region's text inside its cell."""
    from autograder.notebooks import SOLUTION_RE, grade_id

    out = []
    for i, cell in enumerate(nb.cells):
        for m in SOLUTION_RE.finditer(cell.source):
            out.append((grade_id(cell).split("-")[0], i, m.start(1), m.end(1)))
    return out


def mutants_of(text: str, question: str, region: int) -> list[Mutant]:
    """Every one-token mutant of ``text`` (a solution region) that still compiles as part of its cell."""
    found = []
    lines = text.splitlines(keepends=True)
    offsets = np.cumsum([0] + [len(line) for line in lines])
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))

    def at(tok):
        (row, col), (erow, ecol) = tok.start, tok.end
        return offsets[row - 1] + col, offsets[erow - 1] + ecol

    import builtins
    import keyword

    # local names (assigned in the region or used as plain names): a name swapped for a neighbour
    local = []
    for k, tok in enumerate(tokens):
        after_dot = k > 0 and tokens[k - 1].string == "."
        keyword_arg = k + 1 < len(tokens) and tokens[k + 1].string == "=" and k > 0 and tokens[k - 1].string in "(,"
        if (tok.type == tokenize.NAME and not after_dot and not keyword_arg and not keyword.iskeyword(tok.string) and not hasattr(builtins, tok.string)
                and tok.string not in ("np", "T", "self", "torch", "nn", "config", "params", "grads")
                and tok.string not in local):
            local.append(tok.string)
    for i, tok in enumerate(tokens):
        start, end = at(tok)
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        prev = tokens[i - 1] if i else None
        options = []
        if tok.type == tokenize.OP and tok.string in SWAPS:
            options += SWAPS[tok.string]
            # a term dropped: "+ b" / "- b" when b is a plain name or number not followed by a call/index
            if tok.string in "+-" and nxt is not None and nxt.type in (tokenize.NAME, tokenize.NUMBER):
                after_next = tokens[i + 2] if i + 2 < len(tokens) else None
                if after_next is None or after_next.string not in "([.":
                    found.append(("drop", start, at(nxt)[1], ""))
        elif tok.type == tokenize.NUMBER:
            try:
                value = eval(tok.string)
                options.append(repr(value + 1) if isinstance(value, int) else repr(value * 2 if value else 1.0))
            except Exception:
                pass
        elif tok.type == tokenize.NAME and tok.string in NAME_SWAPS:
            options.append(NAME_SWAPS[tok.string])
        elif (tok.type == tokenize.NAME and tok.string in local and len(local) > 1
              and not (prev is not None and prev.string == ".") and not (nxt is not None and nxt.string in ("=", "("))):
            j = local.index(tok.string)
            options += sorted({local[(j + 1) % len(local)], local[j - 1]} - {tok.string})
        elif tok.type == tokenize.NAME and tok.string == "T" and prev is not None and prev.string == ".":
            found.append(("drop", at(prev)[0], end, ""))
        for option in options:
            found.append(("swap", start, end, option))
    out = []
    for _, start, end, replacement in found:
        row = int(np.searchsorted(offsets, start, side="right")) - 1
        before_line = lines[row]
        mutated = text[:start] + replacement + text[end:]
        after_line = mutated.splitlines(keepends=True)[row] if row < len(mutated.splitlines()) else ""
        out.append(Mutant(question, region, before_line.strip(), after_line.strip(), start, end, replacement))
    return out


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


_STATE = {}


def _init(name: str):
    from autograder import assignments, notebooks, reference
    from autograder.cases import manifest_and_arrays

    a = assignments.get(name)
    ref = reference.load(name)
    cases = a.spec.hidden_cases(ref)
    manifest, arrays = manifest_and_arrays(name, cases)
    nb = notebooks.read(a.notebook)
    _STATE.update(a=a, ref=ref, cases=cases, manifest=manifest, arrays=arrays, nb=nb, regions=_regions(nb))


def grade(mutant: Mutant) -> tuple[Mutant, str]:
    """'killed', 'survived', or 'killed (does not compile)' / '(timeout)' for one mutant."""
    from autograder import reference
    from autograder.kernel import run_case
    from autograder.scoring import score_question

    s = _STATE
    question, cell_index, rstart, rend = s["regions"][mutant.region]
    nb = s["nb"].copy() if hasattr(s["nb"], "copy") else s["nb"]
    cells = [c.source for c in nb.cells]
    source = cells[cell_index]
    region = source[rstart:rend]
    cells[cell_index] = source[:rstart] + region[:mutant.start] + mutant.replacement + region[mutant.end:] + source[rend:]
    library = [cells[i] for i, c in enumerate(nb.cells)
               if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade_id", "").endswith(
                   reference.LIBRARY_SUFFIXES)]
    module = types.ModuleType(f"mutant_{id(mutant)}")
    sys.modules[module.__name__] = module
    module.__dict__.update(np=np, dataclass=dataclasses.dataclass, field=dataclasses.field)
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIME_LIMIT_S)
    try:
        try:
            exec(compile("\n\n".join(library), "mutant", "exec"), module.__dict__)
        except SyntaxError:
            return mutant, "killed (does not compile)"
        except Exception:
            return mutant, "killed (raises when defined)"
        captured = {}
        for entry in s["manifest"]["cases"]:
            if entry["question"] != question:
                continue
            try:
                with np.errstate(all="ignore"):
                    captured[entry["id"]] = run_case(entry, s["arrays"], module.__dict__, s["ref"])
            except _Timeout:
                raise
            except Exception as exc:
                captured[entry["id"]] = {"error": np.array(repr(exc))}
        with np.errstate(all="ignore"):
            result = score_question(question, s["a"].questions[question], s["cases"], captured, s["ref"])
        return mutant, "killed" if result.score < result.max_score else "survived"
    except _Timeout:
        return mutant, "killed (timeout)"
    finally:
        signal.alarm(0)
        del sys.modules[module.__name__]


def all_mutants(name: str) -> list[Mutant]:
    _init(name)
    out = []
    for index, (question, cell_index, start, end) in enumerate(_STATE["regions"]):
        text = _STATE["nb"].cells[cell_index].source[start:end]
        out += mutants_of(text, question, index)
    return out


def report(name: str, results: list[tuple[Mutant, str]], seconds: float) -> str:
    by_q: dict[str, list] = {}
    for mutant, outcome in results:
        by_q.setdefault(mutant.question, []).append((mutant, outcome))
    killed = sum(1 for _, o in results if o.startswith("killed"))
    lines = [f"# Mutation testing of {name}'s hidden tests", "",
             f"{len(results)} one-token mutants of the solution regions of `solutions/{name}/{name}.ipynb`, each graded "
             f"in process for the question whose region it changes (`python -m bench.mutants --assignment {name}`, "
             f"{seconds:.0f} s with 2 processes, one BLAS thread each). **{killed} killed, {len(results) - killed} survived** "
             f"(kill rate {100 * killed / max(len(results), 1):.1f} %).", "",
             "| question | mutants | killed | survived |", "|---|---|---|---|"]
    for q in sorted(by_q):
        rows = by_q[q]
        k = sum(1 for _, o in rows if o.startswith("killed"))
        lines.append(f"| {q} | {len(rows)} | {k} | {len(rows) - k} |")
    survivors = [m for m, o in results if o == "survived"]
    unjudged = [m for m in survivors if m.after not in EQUIVALENT]
    lines += ["", "## Survivors", "",
              f"{len(survivors) - len(unjudged)} judged equivalent (reason given), {len(unjudged)} not judged "
              f"(a gap in the hidden tests until a case kills it).", "",
              "| question | line | mutated to | judged |", "|---|---|---|---|"]
    for mutant in survivors:
        why = EQUIVALENT.get(mutant.after, "**not judged**")
        lines.append(f"| {mutant.question} | `{mutant.line}` | `{mutant.after}` | {why} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="a1", help="which assignment (default: a1)")
    parser.add_argument("--jobs", type=int, default=2, help="processes (default: 2)")
    parser.add_argument("--write", type=Path, default=None, help="also write the report to this file")
    args = parser.parse_args(argv)
    mutants = all_mutants(args.assignment)
    start = time.monotonic()
    with multiprocessing.get_context("fork").Pool(args.jobs, initializer=_init, initargs=(args.assignment,)) as pool:
        results = pool.map(grade, mutants, chunksize=4)
    text = report(args.assignment, results, time.monotonic() - start)
    print(text)
    if args.write:
        args.write.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
