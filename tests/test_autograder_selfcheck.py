"""The students' self-checks (public tests), for every assignment in the registry: they pass on the
reference, each example mistake makes its question's check fail with a message naming the faulty term
(``Mistake.says``), an unattempted question says so in one line, and ``grader.check`` works offline in
the released notebook."""

import shutil

import nbclient
import nbformat
import numpy as np
import pytest
from otter.test_files import ExceptionTestFile

from autograder import assignments
from conftest import ASSIGNMENT_NAMES
from test_autograder_spec import MISTAKE_ROWS, graded

QUESTION_ROWS = [(a, q) for a in ASSIGNMENT_NAMES for q in assignments.get(a).questions]


def run_public(name: str, question: str, env: dict):
    test_file = ExceptionTestFile.from_file(str(assignments.get(name).release_dir / "tests" / f"{question}.py"))
    with np.errstate(all="ignore"):
        test_file.run(env)
    return test_file.test_case_results


@pytest.mark.parametrize("name,question", QUESTION_ROWS)
def test_public_tests_pass_on_the_reference(name, question):
    results = run_public(name, question, graded(name).namespace())
    assert results and all(r.passed for r in results), [r.message for r in results if not r.passed]


@pytest.mark.parametrize("name,mistake", MISTAKE_ROWS)
def test_public_tests_name_the_faulty_term(name, mistake):
    m = assignments.get(name).mistakes[mistake]
    assert m.says, f"mistake {mistake} must say which words its self-check prints (Mistake.says)"
    results = run_public(name, m.question, graded(name).namespace(m.old, m.new))
    failed = "\n".join(r.message for r in results if not r.passed)
    assert failed, f"the self-check of {m.question} does not catch {mistake}"
    assert m.says in failed, failed


@pytest.mark.parametrize("name,question", QUESTION_ROWS)
def test_an_unattempted_question_says_so_in_one_line(name, question):
    """The question's functions as the release leaves them (raising NotImplementedError): one line."""
    import inspect

    g = graded(name)
    env = g.namespace()
    own = {n for c in g.cases if c.question == question for n in (c.fn, c.bwd) if n}
    for fn in assignments.get(name).spec.PUBLIC[question]:
        for param in inspect.signature(fn).parameters:
            if param in own and callable(env.get(param)):
                namespace = {}
                exec(f"def {param}(*args, **kwargs):\n    raise NotImplementedError()", namespace)
                env[param] = namespace[param]
    assert any(env.get(p) is not None and env[p].__code__.co_consts[-1:] != () for p in own if callable(env.get(p)))
    (result,) = run_public(name, question, env)
    assert not result.passed
    assert f"AssertionError: {question} is not attempted yet" in result.message, result.message
    assert "NotImplementedError" not in result.message and "Traceback" not in result.message
    assert result.message.count("\n") <= 3, result.message


def test_the_messages_are_short_and_drop_equal_shapes():
    m = assignments.get("a1").mistakes["q2_dW_not_summed_over_time"]
    (result,) = run_public("a1", "q2", graded("a1").namespace(m.old, m.new))
    assert "backward_weights_summed: dW_ih is wrong" in result.message
    assert "shape" not in result.message  # the shapes agree: not worth a word
    assert result.message.count("\n") <= 4, result.message


@pytest.mark.notebook
@pytest.mark.parametrize("name", ASSIGNMENT_NAMES)
def test_grader_check_runs_offline_in_the_released_notebook(name, tmp_path, examples):
    """Execute a completed student notebook next to its tests/ folder, as a student would."""
    a = assignments.get(name)
    shutil.copytree(a.release_dir / "tests", tmp_path / "tests")
    mistake = next(iter(a.mistakes))
    nb = nbformat.read(examples(name) / f"{mistake}.ipynb", as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=300, allow_errors=False,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = {c.source: "".join(o.get("text", "") or str(o.get("data", {}).get("text/plain", ""))
                                 for o in c.outputs)
               for c in nb.cells if c.cell_type == "code" and c.source.startswith("grader.check")}
    broken = a.mistakes[mistake].question
    assert a.mistakes[mistake].says in outputs[f'grader.check("{broken}")']
    # self-checks run on the student's own functions (a later question may fail through an earlier one;
    # only the hidden tests grade each question on its own), but the independent ones pass
    passing = [q for q in a.questions if "All test cases passed" in outputs[f'grader.check("{q}")']]
    assert passing and broken not in passing, outputs
