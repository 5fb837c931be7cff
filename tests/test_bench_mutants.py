"""bench/mutants.py: mutants are generated from every solution region, the unmutated code survives, and a
known mistake is killed (the full run is `python -m bench.mutants`; its report is bench/mutants.md)."""

import pytest

from bench import mutants


@pytest.mark.slow
def test_mutants_are_graded_and_an_operator_swap_is_killed():
    found = mutants.all_mutants("a1")
    assert len(found) > 300 and {m.question for m in found} == {f"q{i}" for i in range(1, 8)}
    first = found[0]
    identity = mutants.Mutant(first.question, first.region, first.line, first.line, 0, 0, "")
    assert mutants.grade(identity)[1] == "survived"
    swap = next(m for m in found if m.line.startswith("da = dnext_h * (1.0 - next_h**2)") and "/" in m.after)
    assert mutants.grade(swap)[1].startswith("killed")
