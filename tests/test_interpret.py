"""utils.interpret: source-code features, unit ranking, coloured text."""

import numpy as np
import pytest

from utils.interpret import colour_text, python_features, rank_units

CODE = 'def f(x):\n    s = "a\\"b"\n    if x:\n        return \'\'\'doc\nmore\'\'\'\n    return s\n'


def test_features_of_a_small_program():
    feats = python_features(CODE)
    marked = "".join(c for c, v in zip(CODE, feats["in string"]) if v)
    assert marked == '"a\\"b"' + "'''doc\nmore'''"             # escapes and triple quotes handled
    lines = CODE.split("\n")
    second = CODE.index("s =")
    assert feats["indent"][second] == 1 and feats["column"][second] == 4
    assert feats["indent"][CODE.index("return '")] == 2
    assert feats["column"][0] == 0 and feats["column"][CODE.index("\n") + 1] == 0
    assert len(lines) and all(len(v) == len(CODE) for v in feats.values())


def test_a_snippet_cut_mid_string_keeps_what_was_found():
    feats = python_features('x = "ok"\ny = "unterminated')
    assert feats["in string"][4:8].all()


def test_rank_units_finds_the_unit_that_tracks_the_feature():
    rng = np.random.default_rng(0)
    feature = rng.integers(0, 2, size=500).astype(float)
    A = rng.normal(size=(500, 6))
    A[:, 4] = -2 * feature + 0.1 * rng.normal(size=500)
    ranked = rank_units(A, feature)
    assert ranked[0][0] == 4 and ranked[0][1] < -0.95
    with pytest.raises(ValueError, match="constant"):
        rank_units(A, np.ones(500))


def test_colour_text_escapes_and_colours_each_character():
    out = colour_text("<a>", [1.0, 0.0, -1.0])
    assert out.count("<span") == 3 and "&lt;" in out
    assert "rgb(255,0,0)" in out and "rgb(0,0,255)" in out and "rgb(255,255,255)" in out
    with pytest.raises(ValueError, match="one value per character"):
        colour_text("ab", [1.0])
