"""The self-check runner (student side): short messages, shapes named only when they differ, the first
failure only, "not attempted yet" in one line, numbers right to 3 significant digits accepted."""

import numpy as np
import pytest

from autograder import checks


def _run(fns, expected, env):
    with pytest.raises(AssertionError) as info:
        checks.run_checks("q9", fns, expected, env)
    return str(info.value)


def test_record_then_check():
    def c(f):
        checks.expect(f(np.ones(3)), "f is wrong")

    expected = {"c": checks.record(c, {"f": lambda x: 2 * x})}
    checks.run_checks("q9", [c], expected, {"f": lambda x: x + x})  # passes: nothing raised
    assert _run([c], expected, {"f": lambda x: 3 * x}) == "c: f is wrong"
    assert _run([c], expected, {"f": lambda x: np.ones(4)}) == "c: f is wrong (shape (4,), expected (3,))"


def test_only_the_first_failure_is_reported():
    def a(f):
        checks.expect(f(1.0), "a is wrong")

    def b(f):
        checks.expect(f(2.0), "b is wrong")

    expected = {"a": [np.array(1.0)], "b": [np.array(2.0)]}
    assert _run([a, b], expected, {"f": lambda x: -x}) == "a: a is wrong"


def test_not_attempted_is_one_line():
    def a(rnn_step):
        checks.expect(rnn_step(1.0), "a is wrong")

    def rnn_step(x):
        raise NotImplementedError()

    assert _run([a, a], {"a": [np.array(1.0)]}, {"rnn_step": rnn_step}) == "q9 is not attempted yet"


def test_numbers_right_to_three_significant_digits_pass():
    def n(answer):
        checks.expect_number(answer, "the answer is wrong")

    expected = {"n": [np.float64(2.0 / 3.0)]}
    for answer in (0.6666666, 0.667, 0.6667):
        checks.run_checks("q9", [n], expected, {"answer": answer})
    assert _run([n], expected, {"answer": 0.66}) == "n: the answer is wrong"
