"""The student's self-checks (public tests): they pass on the reference, fail on each mistake with a
message naming the faulty term, and `grader.check` works offline in the released notebook."""

import shutil

import nbclient
import nbformat
import numpy as np
import pytest
from otter.test_files import ExceptionTestFile

from autograder.examples import mistakes
from autograder.paths import ASSIGNMENTS, EXAMPLES
from test_autograder_reference import namespace_with

TESTS = ASSIGNMENTS / "a1" / "tests"

# For each mistake, a word the failing self-check's message must contain (it names the faulty term).
NAMES_THE_TERM = {
    "q1_missing_tanh_derivative": "derivative of tanh",
    "q2_dW_not_summed_over_time": "dWx is wrong",
    "q2_dprev_h_not_propagated": "is dprev_h carried",
    "q2_off_by_one_in_time": "down to t = 0",
    "q3_embedding_overwrites": "np.add.at accumulates",
    "q4_mask_ignored": "masked positions",
    "q4_unstable_softmax": "subtract each row's maximum",
    "q5_clip_by_squared_norm": "square root of the sum of squares",
    "q6_temperature_multiplies": "divide the scores by the temperature",
    "q7_gradient_ascent": "should drop clearly",
}


def run_public(question: str, env: dict):
    test_file = ExceptionTestFile.from_file(str(TESTS / f"{question}.py"))
    with np.errstate(all="ignore"):
        test_file.run(env)
    return test_file.test_case_results


@pytest.mark.parametrize("question", [f"q{i}" for i in range(1, 8)])
def test_public_tests_pass_on_the_reference(question):
    results = run_public(question, namespace_with())
    assert results and all(r.passed for r in results), [r.message for r in results if not r.passed]


def test_every_mistake_has_a_message_spec():
    assert set(NAMES_THE_TERM) == set(mistakes("a1"))


@pytest.mark.parametrize("name", sorted(NAMES_THE_TERM))
def test_public_tests_name_the_faulty_term(name):
    question, old, new, _ = mistakes("a1")[name]
    results = run_public(question, namespace_with(old, new))
    failed = "\n".join(r.message for r in results if not r.passed)
    assert failed, f"the self-check of {question} does not catch {name}"
    assert NAMES_THE_TERM[name] in failed, failed


@pytest.mark.notebook
def test_grader_check_runs_offline_in_the_released_notebook(tmp_path):
    """Execute a completed student notebook next to its tests/ folder, as a student would."""
    shutil.copytree(ASSIGNMENTS / "a1" / "tests", tmp_path / "tests")
    nb = nbformat.read(EXAMPLES / "a1" / "submissions" / "q3_embedding_overwrites.ipynb", as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=300, allow_errors=False,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = {c.source: "".join(o.get("text", "") or str(o.get("data", {}).get("text/plain", ""))
                                 for o in c.outputs)
               for c in nb.cells if c.cell_type == "code" and c.source.startswith("grader.check")}
    assert "All test cases passed" in outputs['grader.check("q1")']
    assert "np.add.at accumulates" in outputs['grader.check("q3")']
