"""Release, for every assignment in the registry: one command regenerates the committed student release
identically (no drift), nothing of the answers or hidden tests reaches the student side, the pre-flight
check names the file and line of each problem, and a failed release leaves the committed tree as it was."""

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder import assignments, notebooks, release
from autograder.paths import REPO
from autograder.preflight import PreflightError, preflight
from conftest import ASSIGNMENT_NAMES, FIXTURES


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    """``regenerated(name) -> (ReleasePaths of a fresh release, Build with the otter zip)``."""
    done = {}

    def get(name):
        if name not in done:
            root = tmp_path_factory.mktemp(f"release-{name}")
            paths = release.release(name, root=root)
            tree = release.build(name, root / "build", zip=True)
            done[name] = (paths, tree)
        return done[name]

    return get


def committed(name) -> release.ReleasePaths:
    return release.ReleasePaths(assignments.get(name).root, name)


@pytest.mark.engine
@pytest.mark.parametrize("name", ASSIGNMENT_NAMES)
def test_release_regenerates_the_committed_files(name, regenerated):
    fresh, _ = regenerated(name)
    old = committed(name)
    rel_old = {p.relative_to(old.root) for p in old.committed()}
    rel_new = {p.relative_to(fresh.root) for p in fresh.committed()}
    assert rel_new == rel_old, f"files differ: {sorted(rel_new ^ rel_old)}"
    drift = [str(r) for r in sorted(rel_old) if (old.root / r).read_bytes() != (fresh.root / r).read_bytes()]
    assert not drift, f"run `python -m autograder release {name}` and commit: {drift}"


def _secret_lines(name, tree) -> list[str]:
    """Solution-region lines and hidden-test lines (non-trivial ones: 12+ characters, not comments)."""
    source = notebooks.read(assignments.get(name).notebook)
    hidden = notebooks.read(tree.nbgrader_source)
    otter_hidden = "\n".join(line for p in (tree.otter_dir / "tests").glob("*.py")
                             for line in p.read_text().splitlines() if "capture" in line)
    regions = notebooks.solution_regions(source) + notebooks.hidden_regions(hidden)
    lines = [line.strip() for text in regions + [otter_hidden] for line in text.splitlines()]
    # A line the students are given anyway (the same statement in a given cell, e.g. Q7's evaluation
    # loop and the training loop both start with `N, T = inputs.shape`) is not a secret.
    given = {line.strip() for cell in source.cells if cell.cell_type == "code"
             for line in _without_regions(cell.source).splitlines()}
    return sorted({line for line in lines if len(line) >= 12 and not line.startswith(("#", '"""'))
                   and line not in given})


def _without_regions(text: str) -> str:
    """A cell's source with its solution regions (BEGIN/END SOLUTION, inclusive) removed."""
    return re.sub(r"### BEGIN SOLUTION.*?### END SOLUTION", "", text, flags=re.S)


@pytest.mark.engine
@pytest.mark.parametrize("which", ["committed", "regenerated"])
@pytest.mark.parametrize("name", ASSIGNMENT_NAMES)
def test_no_solution_or_hidden_test_on_the_student_side(name, which, regenerated):
    fresh, tree = regenerated(name)
    paths = committed(name) if which == "committed" else fresh
    secrets = _secret_lines(name, tree)
    assert len(secrets) >= 3 and any("capture(" in s for s in secrets)
    texts = {str(p): p.read_text(encoding="utf-8") for p in paths.student_dir.rglob("*") if p.is_file()}
    assert str(paths.student_notebook) in texts and len(texts) >= 1 + len(assignments.get(name).questions)
    for file, text in texts.items():
        haystack = text
        if file.endswith(".ipynb"):  # cell sources unescaped, and every metadata field
            nb = nbformat.reads(text, as_version=4)
            haystack += "\n".join(c.source for c in nb.cells)
            haystack += json.dumps([c.metadata for c in nb.cells]) + json.dumps(nb.metadata)
        for secret in secrets:
            assert secret not in haystack, f"{secret!r} leaks into {file}"
        assert "BEGIN SOLUTION" not in haystack and "BEGIN HIDDEN TESTS" not in haystack


@pytest.mark.engine
def test_a1_secrets_include_its_answers(regenerated):
    _, tree = regenerated("a1")
    assert any("np.add.at" in s for s in _secret_lines("a1", tree))


@pytest.mark.parametrize("name", ASSIGNMENT_NAMES)
def test_student_notebook_hygiene(name):
    a = assignments.get(name)
    nb = nbformat.read(a.student_notebook, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"] == {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    checks = [c.source for c in code if c.source.startswith("grader.check")]
    assert checks == [f'grader.check("{q}")' for q in a.questions], "one one-line self-check per question"
    stubs = sum(c.source.count("raise NotImplementedError()") for c in code)
    assert stubs == len(notebooks.solution_regions(notebooks.read(a.notebook)))
    text = "".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "not sufficient" in text and "hidden tests" in text  # the notebook says public != hidden


@pytest.mark.engine
@pytest.mark.parametrize("name", ASSIGNMENT_NAMES)
def test_build_has_one_graded_hidden_cell_per_question_and_an_otter_zip(name, regenerated):
    _, tree = regenerated(name)
    nb = nbformat.read(tree.nbgrader_source, as_version=4)
    graded = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
              for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")}
    questions = assignments.get(name).questions
    assert graded == {f"{q}-hidden": p for q, p in questions.items()}
    with zipfile.ZipFile(tree.otter_zip) as zf:
        names = set(zf.namelist())
        assert {f"tests/{q}.py" for q in questions} <= names
        assert {"files/autograder/kernel.py", "files/autograder/checks.py", "otter_config.json"} <= names
        assert re.search(r"capture\(\"q1\", env\)", zf.read("tests/q1.py").decode())


@pytest.mark.parametrize("name", ASSIGNMENT_NAMES)
def test_public_tests_never_compare_printed_output(name):
    for path in (assignments.get(name).release_dir / "tests").glob("*.py"):
        text = path.read_text()
        assert "OK_FORMAT = False" in text and ">>>" not in text, f"{path.name} must be exception-based"
        compile(text, str(path), "exec")


def test_release_is_tracked_and_generated_trees_are_not():
    """The student releases are in git; build trees and example submissions are generated on demand."""
    files = [str(p.relative_to(REPO)) for n in ASSIGNMENT_NAMES for p in committed(n).committed()]
    proc = subprocess.run(["git", "ls-files", "--error-unmatch", *files], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    generated = subprocess.run(["git", "ls-files", "autograder/build", "autograder/examples"], cwd=REPO,
                               capture_output=True, text=True).stdout
    assert generated == ""


# ---------------------------------------------------------------- pre-flight and atomic release

@pytest.fixture
def broken_root(tmp_path, monkeypatch):
    """A copy of the t1 course root, registered under the name b1, for breaking on purpose."""
    root = tmp_path / "course"
    shutil.copytree(FIXTURES / "solutions" / "t1", root / "solutions" / "b1")
    (root / "solutions" / "b1" / "t1.ipynb").rename(root / "solutions" / "b1" / "b1.ipynb")
    shutil.copytree(FIXTURES / "assignments" / "t1", root / "assignments" / "b1")
    (root / "assignments" / "b1" / "t1.ipynb").rename(root / "assignments" / "b1" / "b1.ipynb")
    monkeypatch.setenv(assignments.ROOTS_ENV, str(root))
    for module in [m for m in sys.modules if m.startswith("recurrent_spec_b1")]:
        del sys.modules[module]
    from autograder import reference

    reference.load.cache_clear()
    yield root
    reference.load.cache_clear()


def _edit(path: Path, old: str, new: str) -> int:
    text = path.read_text()
    assert text.count(old) == 1
    path.write_text(text.replace(old, new))
    return text[:text.index(old)].count("\n") + 1


def test_preflight_names_file_and_line_of_each_problem(broken_root):
    spec = broken_root / "solutions" / "b1" / "spec.py"
    preflight("b1")  # the copy is fine as it is
    case_line = _edit(spec, '"out for N=4, D=3, H=2 in float64", "linear_forward"',
                      '"out for N=4, D=3, H=2 in float64", "linear_forwrd"')
    mistake_line = _edit(spec, '"q2_gradient_ascent": Mistake("q2", "loss.backward()"',
                         '"q2_gradient_ascent": Mistake("q2", "loss.backwards()"')
    _edit(spec, 'QUESTIONS = {"q1": 1.0, "q2": 2.0}', 'QUESTIONS = {"q1": 1.0, "q2": 3.0}')
    nb = broken_root / "solutions" / "b1" / "b1.ipynb"
    _edit(nb, 'grader.check(\\"q1\\")', 'grader.check(\\"q01\\")')
    with pytest.raises(PreflightError) as info:
        preflight("b1")
    message = str(info.value)
    assert f"solutions/b1/spec.py:{case_line}: case q1.float64 names linear_forwrd" in message
    assert f"solutions/b1/spec.py:{mistake_line}: the text of mistake q2_gradient_ascent occurs 0 times" in message
    assert "the heading of q2 says (2 points)" in message and "hidden cases add up to 2" in message
    assert 'q1-check holding exactly grader.check("q1")' in message


def test_a_failed_release_leaves_the_committed_tree_as_it_was(broken_root):
    release_dir = broken_root / "assignments" / "b1"
    before = {p: p.read_bytes() for p in release_dir.rglob("*") if p.is_file()}
    _edit(broken_root / "solutions" / "b1" / "spec.py", "def linear_values(linear_forward):",
          "def linear_values(linear_forward, not_in_the_notebook):")
    with pytest.raises(PreflightError, match="takes not_in_the_notebook"):
        release.release("b1")
    # a failure after the pre-flight (here: a self-check that fails on the reference) changes nothing either
    _edit(broken_root / "solutions" / "b1" / "spec.py", "def linear_values(linear_forward, not_in_the_notebook):",
          "def linear_values(linear_forward):\n    assert False, 'broken on purpose'")
    with pytest.raises(Exception, match="broken on purpose"):
        release.release("b1")
    assert {p: p.read_bytes() for p in release_dir.rglob("*") if p.is_file()} == before


def test_fill_solutions_at_any_indentation():
    student = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "class M:\n    def f(self):\n        # YOUR CODE HERE\n        raise NotImplementedError()\n\n"
        "def g():\n    # YOUR CODE HERE\n    raise NotImplementedError()\n")])
    source = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "class M:\n    def f(self):\n        ### BEGIN SOLUTION\n        return 1\n        ### END SOLUTION\n\n"
        "def g():\n    ### BEGIN SOLUTION\n    x = 2\n    return x\n    ### END SOLUTION\n")])
    for nb in (student, source):
        nb.cells[0].metadata["nbgrader"] = {"grade_id": "q1-solution"}
    filled = notebooks.fill_solutions(student, source).cells[0].source
    assert filled == "class M:\n    def f(self):\n        return 1\n\ndef g():\n    x = 2\n    return x\n"
    namespace = {}
    exec(filled, namespace)
    assert namespace["M"]().f() == 1 and namespace["g"]() == 2
