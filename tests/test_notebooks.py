"""Every course notebook runs top to bottom in a fresh kernel, offline, on the CPU.

Time and memory are measured by the same harness but reported by `make bench`, not asserted here.
"""

from pathlib import Path

import pytest

from bench.harness import executed_path, run_notebook

ROOT = Path(__file__).resolve().parents[1]
COURSE = sorted((ROOT / "course").glob("*.ipynb"))


def test_course_has_the_start_notebook():
    assert ROOT / "course" / "00_start_here.ipynb" in COURSE


@pytest.mark.notebook
@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.name)
def test_notebook_executes(path):
    run = run_notebook(path, save=executed_path(path))  # the course site (make site) reuses the executed copy
    assert run.ok, f"{path.name} failed after {run.seconds:.0f} s:\n{run.error}"
    print(f"{path.name}: {run.seconds:.1f} s ({run.cpu_seconds:.1f} kernel CPU s), peak {run.peak_mb:.0f} MB")
