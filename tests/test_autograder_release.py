"""Release: one command regenerates every artefact identically (no drift), and nothing of the answers
or of the hidden tests reaches the student side."""

import json
import re
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder import notebooks, release
from autograder.a1.cases import QUESTIONS
from autograder.paths import REPO, solution_notebook

COMMITTED = release.ReleasePaths(REPO, "a1")


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> release.ReleasePaths:
    return release.release("a1", root=tmp_path_factory.mktemp("release"), build_zip=True)


def test_release_regenerates_the_committed_files(regenerated):
    committed = {p.relative_to(REPO) for p in COMMITTED.committed()}
    fresh = {p.relative_to(regenerated.root) for p in regenerated.committed()}
    assert fresh == committed, f"files differ: {sorted(fresh ^ committed)}"
    drift = [str(rel) for rel in sorted(committed)
             if (REPO / rel).read_bytes() != (regenerated.root / rel).read_bytes()]
    assert not drift, f"run `python -m autograder release a1` and commit: {drift}"
    assert len([p for p in fresh if p.suffix == ".ipynb" and "examples" in p.parts]) >= 10


def _student_side_texts(paths: release.ReleasePaths) -> dict[str, str]:
    """Every file a student receives: the notebook (cells and all metadata) and the self-check tests."""
    texts = {str(p): p.read_text(encoding="utf-8") for p in paths.student_dir.rglob("*") if p.is_file()}
    assert str(paths.student_notebook) in texts and len(texts) >= 1 + len(QUESTIONS)
    return texts


def _secret_lines() -> list[str]:
    """Solution-region lines and hidden-test lines (non-trivial ones: 12+ characters, not comments)."""
    source = notebooks.read(solution_notebook("a1"))
    hidden = notebooks.read(COMMITTED.nbgrader_source)
    # the otter hidden files share otter's boilerplate with the public ones; their own lines call capture
    otter_hidden = "\n".join(line for p in (COMMITTED.otter_dir / "tests").glob("*.py")
                             for line in p.read_text().splitlines() if "capture" in line)
    regions = notebooks.solution_regions(source) + notebooks.hidden_regions(hidden)
    lines = [line.strip() for text in regions + [otter_hidden] for line in text.splitlines()]
    return sorted({line for line in lines if len(line) >= 12 and not line.startswith(("#", '"""'))})


@pytest.mark.parametrize("which", ["committed", "regenerated"])
def test_no_solution_or_hidden_test_on_the_student_side(which, regenerated):
    paths = COMMITTED if which == "committed" else regenerated
    secrets = _secret_lines()
    assert len(secrets) > 50 and any("np.add.at" in s for s in secrets) and any("capture(" in s for s in secrets)
    for name, text in _student_side_texts(paths).items():
        haystack = text
        if name.endswith(".ipynb"):  # cell sources unescaped, and every metadata field
            nb = nbformat.reads(text, as_version=4)
            haystack += "\n".join(c.source for c in nb.cells)
            haystack += json.dumps([c.metadata for c in nb.cells]) + json.dumps(nb.metadata)
        for secret in secrets:
            assert secret not in haystack, f"{secret!r} leaks into {name}"
        assert "BEGIN SOLUTION" not in haystack and "BEGIN HIDDEN TESTS" not in haystack


def test_student_notebook_hygiene():
    nb = nbformat.read(COMMITTED.student_notebook, as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert nb.metadata["kernelspec"] == {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    checks = [c.source for c in code if c.source.startswith("grader.check")]
    assert checks == [f'grader.check("{q}")' for q in QUESTIONS], "one one-line self-check per question"
    stubs = sum(c.source.count("raise NotImplementedError()") for c in code)
    assert stubs == len(notebooks.solution_regions(notebooks.read(solution_notebook("a1"))))
    text = "".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "not sufficient" in text and "hidden tests" in text  # the notebook says public != hidden


def test_nbgrader_source_has_one_graded_hidden_cell_per_question():
    nb = nbformat.read(COMMITTED.nbgrader_source, as_version=4)
    graded = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
              for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")}
    assert graded == {f"{q}-hidden": p for q, p in QUESTIONS.items()}


def test_public_tests_never_compare_printed_output():
    for path in (COMMITTED.student_dir / "tests").glob("*.py"):
        text = path.read_text()
        assert "OK_FORMAT = False" in text and ">>>" not in text, f"{path.name} must be exception-based"
        compile(text, str(path), "exec")


def test_otter_zip_holds_hidden_capture_tests_and_support(regenerated):
    with zipfile.ZipFile(regenerated.otter_zip) as zf:
        names = set(zf.namelist())
        assert {f"tests/{q}.py" for q in QUESTIONS} <= names
        assert "files/autograder/kernel.py" in names and "otter_config.json" in names
        assert re.search(r"capture\(\"q1\", env\)", zf.read("tests/q1.py").decode())


def test_generated_files_are_tracked_by_git():
    """The committed artefacts must really be in the repository (a .gitignore once hid build/)."""
    import subprocess

    files = [str(p.relative_to(REPO)) for p in COMMITTED.committed()]
    proc = subprocess.run(["git", "ls-files", "--error-unmatch", *files], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
