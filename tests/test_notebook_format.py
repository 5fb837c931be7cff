"""Committed notebooks are valid nbformat 4, stripped of outputs, and in normalised form (clean diffs)."""

import json
import subprocess
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def tracked_notebooks() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True, check=True)
    return [ROOT / line for line in out.stdout.splitlines() if line]


NOTEBOOKS = tracked_notebooks()


def test_there_are_notebooks():
    assert any(p.parts[-2] == "course" for p in NOTEBOOKS), "no course notebooks are tracked"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_valid_stripped_normalised(path):
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    assert nb.nbformat == 4, f"{path.name} is nbformat {nb.nbformat}; save it as version 4"
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {i} has outputs: run `make strip`"
            assert cell.execution_count is None, f"{path.name} cell {i} has an execution count: run `make strip`"
    spec = nb.metadata.get("kernelspec", {})
    assert spec.get("name") == "python3", f"{path.name} names kernel {spec.get('name')!r}; use 'python3'"
    # Normalised: exactly what nbformat writes (sorted keys, 1-space indent, trailing newline).
    on_disk = path.read_text(encoding="utf-8")
    assert on_disk == nbformat.writes(nb) + "\n", f"{path.name} is not in normalised form: run `make strip`"
    json.loads(on_disk)
