"""The autograder's import graph (every import, module-level or inside a function): no cycle, and no verb
module (one that implements a command of ``python -m autograder``) imports another verb."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "autograder"
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__"))
VERBS = {"release", "examples", "grade", "report", "similarity", "gradescope"}
# Left to do (issue 16): the nbgrader tree and otter zip that grading needs are built by release.py,
# and gradescope-run runs grade.py's pipeline; both move to a non-verb module before these go.
KNOWN_VERB_EDGES = {("grade", "release"), ("gradescope", "grade")}


def imports_of(module: str) -> set[str]:
    """The autograder modules ``module`` imports, anywhere in its code."""
    found = set()
    for node in ast.walk(ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found |= {node.module.split(".")[0]} if node.module else {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("autograder"):
            parts = node.module.split(".")
            found |= {parts[1]} if len(parts) > 1 else {a.name for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("autograder.")}
    return {m for m in found if m in MODULES and m != module}


GRAPH = {m: imports_of(m) for m in MODULES}


def test_the_graph_has_no_cycle():
    state: dict[str, str] = {}

    def visit(module, path):
        if state.get(module) == "done":
            return
        assert state.get(module) != "open", f"import cycle: {' -> '.join(path + [module])}"
        state[module] = "open"
        for other in sorted(GRAPH[module]):
            visit(other, path + [module])
        state[module] = "done"

    for module in MODULES:
        visit(module, [])


def test_no_verb_imports_another_verb():
    edges = {(m, other) for m in VERBS for other in GRAPH[m] & VERBS}
    assert edges <= KNOWN_VERB_EDGES, f"verb-to-verb imports: {sorted(edges - KNOWN_VERB_EDGES)}"


def test_every_module_imports():
    """In a fresh interpreter, every module (nbgrader_config is a traitlets file nbgrader runs, not a module)."""
    names = [m for m in MODULES if m != "nbgrader_config"]
    proc = subprocess.run([sys.executable, "-c", "".join(f"import autograder.{m}\n" for m in names)],
                          capture_output=True, text=True, cwd=PACKAGE.parent, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_the_parser_sees_imports():
    assert "substitutes" in GRAPH["inputs"] and "kernel" in GRAPH["substitutes"]
    assert importlib.import_module("autograder.inputs").write_inputs
