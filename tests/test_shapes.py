import numpy as np
import pytest

from utils.shapes import check_shape


def test_binds_letters_and_reuses_them():
    dims = check_shape(np.zeros((2, 3)), ("N", "H"), "h")
    assert dims == {"N": 2, "H": 3}
    check_shape(np.zeros((2, 5)), ("N", "V"), "scores", dims)
    assert dims == {"N": 2, "H": 3, "V": 5}


def test_letter_conflict_names_array_and_axis():
    dims = {"N": 2}
    with pytest.raises(ValueError, match=r"scores: expected shape \(N, V\) with N=2, got \(4, 5\) \(axis 0 is 4\)"):
        check_shape(np.zeros((4, 5)), ("N", "V"), "scores", dims)


def test_wrong_rank_and_wrong_int():
    with pytest.raises(ValueError, match=r"x: expected 3-D shape \(N, T, 4\), got 2-D shape \(2, 3\)"):
        check_shape(np.zeros((2, 3)), ("N", "T", 4), "x")
    with pytest.raises(ValueError, match=r"axis 1 is 3, not 4"):
        check_shape(np.zeros((2, 3)), (None, 4), "x")


def test_none_matches_anything():
    assert check_shape(np.zeros((7, 1)), (None, 1)) == {}
