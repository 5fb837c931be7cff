"""utils.selfcheck: right answers get ✓ (rounded ones too), each typical mistake gets the hint that
names it, and every registered lecture question is answerable by its own key."""

import math
import pkgutil

import numpy as np
import pytest

import utils.selfcheck as selfcheck
from utils import rnn
from utils.data import Vocab
from utils.stories import make_stories
from utils.selfcheck import Question, check, check_answer, check_rnn_step, check_rnn_step_backward, question, questions

LECTURES = sorted(m.name.split("_")[1] for m in pkgutil.iter_modules(selfcheck.__path__) if m.name.startswith("lecture_"))
# what questions with a `context` are given here
CONTEXT = {"vocab": Vocab.from_text("hello, world"), "stories": make_stories(50, "single", seed=0)}


def test_check_answer(capsys):
    assert check_answer((2, 5), (2, 5), "shape")
    assert check_answer(3.0000001, 3, "number")
    assert check_answer(" Yes", "yes", "word")
    assert not check_answer(..., 3, "q")
    assert "not answered" in capsys.readouterr().out
    assert not check_answer(4, 3, "q", hint="count the biases", wrong={5: "torch has two biases"})
    assert "count the biases" in capsys.readouterr().out
    assert not check_answer(5, 3, "q", hint="generic", wrong={5: "torch has two biases"})
    out = capsys.readouterr().out
    assert "two biases" in out and "generic" not in out
    assert not check_answer((5, 2), (2, 5), "shape") and not check_answer(np.zeros(3), np.zeros(4), "s")
    assert not check_answer("no", "yes", "word")
    assert not check_answer(float("nan"), 1.5, "nan") and not check_answer("1.5", 1.5, "a string")


def test_rounded_to_three_significant_digits_is_right(capsys):
    assert check_answer(0.278, 10 / 36, "q")                     # the case: 10/36 entered as 0.278
    assert "3 significant digits" in capsys.readouterr().out
    assert check_answer(4.48, math.exp(1.5), "q") and check_answer(0.000122, 1.2158e-4, "q")
    assert check_answer((0.867, 2.16), (0.86681, 2.16404), "tuple, entry by entry")
    capsys.readouterr()


def test_two_digits_are_close_and_fewer_are_wrong(capsys):
    assert not check_answer(0.28, 10 / 36, "q", hint="the formula")
    out = capsys.readouterr().out
    assert "close" in out and "more" in out and "formula" not in out
    assert not check_answer(0.277, 10 / 36, "q")                   # cut, not rounded: 2 digits agree
    assert "round (do not cut)" in capsys.readouterr().out
    assert not check_answer(0.3, 10 / 36, "q", hint="the formula")
    assert "formula" in capsys.readouterr().out
    assert not check_answer(0.279, 10 / 36, "q")                  # 3 digits, but the third is wrong
    assert "close" in capsys.readouterr().out


def test_integers_must_be_exact(capsys):
    assert not check_answer(744, 745, "count", hint="list every array")
    assert not check_answer(12300, 12345, "count")                # 3 significant digits is not enough
    assert not check_answer((8, 4.99), (8, 5), "shape")
    assert "✓" not in capsys.readouterr().out


def test_rounded_known_mistakes_get_their_hint(capsys):
    assert not check_answer(0.37, 10 / 36, "q", hint="generic", wrong={10 / 27: "the denominator"})
    out = capsys.readouterr().out
    assert "the denominator" in out and "generic" not in out


def test_check_by_key(capsys):
    assert check("02.add_delta", (9 + 1) / (9 + 27)) and check("02.add_delta", 0.278)
    assert not check("02.add_delta", 10 / 27)
    assert "denominator" in capsys.readouterr().out
    assert check("02.uniform_perplexity", len(CONTEXT["vocab"]), vocab=CONTEXT["vocab"])
    assert not check("02.add_delta", ...)
    assert "not answered" in capsys.readouterr().out


def test_choices_are_validated_and_explained(capsys):
    assert check("02.bigram_after_l", " (C) ")
    out = capsys.readouterr().out
    assert out.startswith("✓") and "why:" in out and "1/2" in out
    assert not check("02.bigram_after_l", "e") and not check("02.bigram_after_l", 3)
    assert "'a' or 'b' or 'c' or 'd'" in capsys.readouterr().out
    assert not check("02.bigram_after_l", "a")
    assert "why:" not in capsys.readouterr().out                  # the reasoning only after a right answer


def test_check_says_what_is_wrong_with_the_call():
    with pytest.raises(KeyError, match="02.add_delta"):
        check("02.no_such_question", 1)
    with pytest.raises(KeyError, match="lecture_99"):
        check("99.anything", 1)
    with pytest.raises(ValueError, match="two digits"):
        questions("2")
    with pytest.raises(TypeError, match="vocab="):
        check("02.uniform_perplexity", 66)


@pytest.mark.parametrize("lecture", LECTURES)
def test_every_question_accepts_its_own_answer_and_names_its_mistakes(lecture, capsys):
    bank = questions(lecture)
    assert bank, f"lecture_{lecture}.py registers no questions"
    for name, q in bank.items():
        assert isinstance(q, Question) and q.name and (q.hint or q.choices), name
        ctx = {k: CONTEXT[k] for k in q.context}
        expected = q.expected(**ctx)
        if q.choices is not None:
            assert expected in q.choices, (name, expected)
        assert check(f"{lecture}.{name}", expected, **ctx), name
        for wrong, hint in q.known_mistakes(**ctx).items():
            capsys.readouterr()
            assert not check(f"{lecture}.{name}", wrong, **ctx), (name, wrong)
            assert hint in capsys.readouterr().out, (name, wrong)
        assert question(f"{lecture}.{name}") is q


def test_lectures_01_to_10_have_keys():
    assert {f"{n:02d}" for n in range(1, 11)} <= set(LECTURES)


def test_lecture_10_baseline_counts_the_last_place_mentioned():
    stories = CONTEXT["stories"]
    by_hand = sum(s.answer in s.sentences[-1] for s in stories) / len(stories)   # places are single words
    assert question("10.last_place_baseline").expected(stories=stories) == pytest.approx(by_hand)
    assert 0 < by_hand < 1


def test_check_rnn_step_accepts_the_package_and_tuple_returns(capsys):
    assert check_rnn_step(rnn.rnn_step_forward)
    assert check_rnn_step(lambda **kw: rnn.rnn_step_forward(**kw)[0])
    assert "✓" in capsys.readouterr().out


def test_check_rnn_step_names_the_wrong_term(capsys):
    cases = {
        "only the biases": lambda x, prev_h, W_ih, W_hh, b_ih, b_hh: np.tanh(x @ W_ih.T + prev_h @ W_hh.T + b_ih),
        "only x_t": lambda x, prev_h, W_ih, W_hh, b_ih, b_hh: np.tanh(x @ W_ih[:, ::-1].T + prev_h @ W_hh.T + b_ih + b_hh),
        "only h_{t-1}": lambda x, prev_h, W_ih, W_hh, b_ih, b_hh: np.tanh(x @ W_ih.T + prev_h @ W_hh + b_ih + b_hh),
        "all terms": lambda x, prev_h, W_ih, W_hh, b_ih, b_hh: np.tanh(x @ W_ih.T) + np.tanh(prev_h @ W_hh.T + b_ih + b_hh),
    }
    for label, fn in cases.items():
        assert not check_rnn_step(fn)
        out = capsys.readouterr().out
        assert "✗" in out and label in out, (label, out)


def test_check_rnn_step_unfinished_and_crashing(capsys):
    def todo(**kw):
        raise NotImplementedError

    assert not check_rnn_step(todo)
    assert "not implemented" in capsys.readouterr().out
    assert not check_rnn_step(lambda **kw: kw["x"] @ kw["W_hh"])
    assert "raised ValueError" in capsys.readouterr().out
    assert not check_rnn_step(lambda **kw: np.zeros(3))
    assert "shape" in capsys.readouterr().out


def test_check_rnn_step_backward(capsys):
    assert check_rnn_step_backward(rnn.rnn_step_backward)
    assert "✓" in capsys.readouterr().out

    def wrong_dW_hh(dnext_h, cache):
        g = list(rnn.rnn_step_backward(dnext_h, cache))
        x, prev_h, W_ih, W_hh, next_h = cache
        g[3] = (dnext_h * (1 - next_h ** 2)).T @ next_h
        return tuple(g)

    def transposed_dprev(dnext_h, cache):
        g = list(rnn.rnn_step_backward(dnext_h, cache))
        x, prev_h, W_ih, W_hh, next_h = cache
        g[1] = (dnext_h * (1 - next_h ** 2)) @ W_hh.T
        return tuple(g)

    assert not check_rnn_step_backward(wrong_dW_hh)
    assert "dW_hh" in capsys.readouterr().out
    assert not check_rnn_step_backward(transposed_dprev)
    out = capsys.readouterr().out
    assert "W_hh.T" in out and "column form" in out
    assert not check_rnn_step_backward(lambda d, c: rnn.rnn_step_backward(d, c)[:4])
    assert "six gradients" in capsys.readouterr().out
