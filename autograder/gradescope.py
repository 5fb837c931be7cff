"""Gradescope: an autograder zip that runs *this* pipeline in the Gradescope container.

Gradescope runs ``/autograder/run_autograder`` once per submission, with the zip unpacked in
``/autograder/source`` and the student's files in ``/autograder/submission``; it reads
``/autograder/results/results.json``. Our ``run_autograder`` calls ``python3 -m autograder gradescope-run``,
which grades the one notebook with the otter backend (``otter run`` + clean verdicts, exactly as
``grade --backend otter``) and converts the result. Build it with ``python -m autograder gradescope-zip a1``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from pathlib import Path

from .grade import GradeConfig, discover, grade_batch
from .paths import REPO
from .results import SubmissionResult
from .sandbox import Limits

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope entry point: grade /autograder/submission with the Recurrent pipeline (otter backend).
set -uo pipefail
cd /autograder/source
export PYTHONPATH=/autograder/source
python3 -m autograder gradescope-run --assignment {assignment} \\
    --submission /autograder/submission --results /autograder/results/results.json
"""

SETUP_SH = """#!/usr/bin/env bash
# Gradescope image set-up: the grading environment of assignment {assignment} (requirements.txt).
set -euo pipefail
apt-get update -q && apt-get install -y -q python3 python3-pip
python3 -m pip install -q -r /autograder/source/requirements.txt
python3 -m ipykernel install --name python3
"""

REQUIREMENTS = """numpy>=1.24
matplotlib>=3.7
nbformat>=5.9
nbclient>=0.9
ipykernel>=6.25
nbgrader>=0.9
otter-grader>=6.0
"""


def results_json(result: SubmissionResult) -> dict:
    """Gradescope's results.json for one graded submission (hidden tests described, never shown)."""
    tests = []
    for q in result.questions:
        lines = [("passed: " if c.passed else "failed: ") + c.describe + ("" if c.passed else f" ({c.message})")
                 for c in q.cases]
        tests.append({"name": q.question, "score": q.score, "max_score": q.max_score,
                      "output": "\n".join(lines), "visibility": "visible"})
    out = {"score": result.score, "tests": tests, "stdout_visibility": "hidden"}
    if result.status != "ok":
        out["output"] = f"Your notebook could not be graded ({result.status}): {result.reason}"
    return out


def gradescope_run(assignment: str, submission_dir: Path, results_path: Path, limits: Limits | None = None) -> dict:
    """Grade the single notebook in ``submission_dir``; write and return Gradescope's results.json."""
    notebooks = sorted(Path(submission_dir).rglob("*.ipynb"))
    preferred = [p for p in notebooks if p.name == f"{assignment}.ipynb"]
    with tempfile.TemporaryDirectory(prefix="gradescope-") as tmp:
        subs = Path(tmp) / "subs"
        subs.mkdir()
        if notebooks:
            shutil.copy((preferred or notebooks)[0], subs / "submission.ipynb")
        else:
            (subs / "submission.ipynb").write_text("no notebook was submitted")
        config = GradeConfig(assignment, subs, Path(tmp) / "out", "otter", "cpu", 1, limits=limits or Limits(),
                             gradebook=False, isolate=False)  # the container is the sandbox (no CAP_SYS_ADMIN there)
        assert list(discover(subs, assignment)) == ["submission"]
        (result,) = grade_batch(config, progress=lambda msg: None)
    data = results_json(result)
    results_path = Path(results_path)
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(data, indent=1))
    return data


def requirements(assignment: str) -> str:
    """requirements.txt of the zip: the grading stack, plus torch when the assignment imports it."""
    from . import assignments, notebooks

    text = REQUIREMENTS
    sources = "\n".join(c.source for c in notebooks.read(assignments.get(assignment).notebook).cells)
    if "import torch" in sources or "from torch" in sources:
        text += "torch>=2.1\n"
    return text


def build_zip(assignment: str, target: Path) -> Path:
    """The Gradescope zip, laid out as a course root: run_autograder, setup.sh, requirements.txt, the
    grader (``autograder/``), the course library (``utils/``), the assignment's two authored files and
    its student release (tampered cells are restored from it; its tests are the self-checks)."""
    from . import assignments

    a = assignments.get(assignment)
    files: dict[str, Path] = {}
    for package in ("autograder", "utils"):
        for path in sorted((REPO / package).rglob("*")):
            rel = path.relative_to(REPO)
            if path.is_file() and "__pycache__" not in rel.parts and "build" not in rel.parts[1:2] \
                    and path.suffix in (".py", ".json", ".txt", ".md"):
                files[str(rel)] = path
    for path in [a.notebook, a.spec_path, a.student_notebook, *sorted((a.release_dir / "tests").glob("*.py"))]:
        files[str(path.relative_to(a.root))] = path
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in [("run_autograder", RUN_AUTOGRADER), ("setup.sh", SETUP_SH),
                           ("requirements.txt", requirements(assignment))]:
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16
            zf.writestr(info, text.format(assignment=assignment))
        for name, path in sorted(files.items()):
            zf.write(path, name)
    return target
