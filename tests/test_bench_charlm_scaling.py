"""bench/charlm_scaling.py: the splits it trains on and one tiny run (the real benchmark runs by hand)."""

import math

import numpy as np
import pytest

from bench import charlm_scaling
from utils.data import SHAKESPEARE_LECTURE_SPLIT, load_char_data


def test_the_4x_split_keeps_the_lecture_validation_and_test_text():
    lecture = load_char_data(**SHAKESPEARE_LECTURE_SPLIT)
    V1, train1, val1, test1 = charlm_scaling.splits(1)
    np.testing.assert_array_equal(train1, lecture.train)
    np.testing.assert_array_equal(test1, lecture.test)
    V4, train4, val4, test4 = charlm_scaling.splits(4)
    assert len(train4) == 4 * len(train1) and len(val4) == len(val1) and len(test4) == len(test1)
    assert V4 >= V1
    # same characters (ids may differ: the larger text has a larger vocabulary)
    itos1, itos4 = lecture.vocab.itos, sorted(set(load_char_data("shakespeare", max_chars=1_140_000).text))
    assert "".join(itos4[i] for i in test4[:200]) == "".join(itos1[i] for i in test1[:200])


@pytest.mark.slow
def test_one_tiny_run_reports_finite_losses():
    run = charlm_scaling.rnn_run("tiny", 1, hidden_size=8, steps=3)
    assert run.data == "1x" and run.steps == 3
    assert math.log(2) < run.val < 5 and math.log(2) < run.test < 5
    assert charlm_scaling.table([run])[-1].startswith("| tiny | 1x | 8 | 3 |")
