"""Generated stories: every answer and supporting fact follows from the sentences; the reader's shapes and masks."""

import re

import numpy as np
import pytest
import torch

from utils.stories import Reader, answer_stories, encode_stories, make_stories, story_vocab, train_reader

MOVE = re.compile(r"^(\w+) (?:moved|went|journeyed|travelled|went back) to the (\w+)\.$")
GET = re.compile(r"^(\w+) (?:picked up|got|grabbed) the (\w+)\.$")
DROP = re.compile(r"^(\w+) (?:dropped|put down|discarded) the (\w+)\.$")


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Train on one thread: on a busy 2-core machine two torch threads slow each other down several-fold."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def solve(story):
    """An independent reading of the story: (answer, the sentences it follows from)."""
    where, moved, holder, lying = {}, {}, {}, {}
    for i, s in enumerate(story.sentences):
        if m := MOVE.match(s):
            where[m[1]], moved[m[1]] = m[2], i
        elif m := GET.match(s):
            assert m[1] in where, f"{m[1]} picks up the {m[2]} before being anywhere: {story}"
            holder[m[2]] = (m[1], i)
            lying.pop(m[2], None)
        elif m := DROP.match(s):
            person, _ = holder.pop(m[2])
            assert person == m[1]
            lying[m[2]] = (where[person], [i, moved[person]])
        else:
            raise AssertionError(f"unparsed sentence {s!r}")
    q = story.question.rstrip("?").split()
    if story.task == "single":
        return where[q[-1]], [moved[q[-1]]]
    obj = q[-1]
    if obj in holder:
        person, got = holder[obj]
        return where[person], sorted({got, moved[person]})
    place, support = lying[obj]
    return place, sorted(set(support))


@pytest.mark.parametrize("task", ["single", "two"])
def test_every_answer_and_support_follows_from_the_story(task):
    for story in make_stories(400, task, seed=7):
        answer, support = solve(story)
        assert (story.answer, story.support) == (answer, support), story
        assert len(story.support) == (1 if task == "single" else 2)


def test_stories_are_reproducible_and_tasks_checked():
    assert make_stories(5, "two", seed=1) == make_stories(5, "two", seed=1)
    assert make_stories(5, "two", seed=1) != make_stories(5, "two", seed=2)
    with pytest.raises(ValueError, match="task must be one of"):
        make_stories(1, "three")


def test_encoding_and_the_reader_ignore_padded_sentences():
    vocab, answers = story_vocab()
    stories = make_stories(6, "single", seed=3)
    story, mask, question, answer = encode_stories(stories, vocab, answers)
    assert mask.sum(1).tolist() == [len(s.sentences) for s in stories]
    assert [answers.itos[a] for a in answer.tolist()] == [s.answer for s in stories]
    torch.manual_seed(0)
    reader = Reader(len(vocab), len(answers), hidden_size=16)
    logits, weights = reader(story, mask, question)
    assert logits.shape == (6, len(answers)) and weights.shape == (6, 2, story.shape[1])
    assert torch.all(weights.masked_select(~mask[:, None, :]) == 0)
    assert torch.allclose(weights.sum(-1), torch.ones(6, 2))


@pytest.mark.slow
def test_a_short_training_run_lowers_the_loss():
    torch.manual_seed(0)
    vocab, answers = story_vocab()
    stories = make_stories(400, "single", seed=0)
    reader = Reader(len(vocab), len(answers), hidden_size=16)
    history = train_reader(reader, stories, vocab, answers, steps=150, lr=1e-2, live_plot=False)
    assert np.mean(history.loss[-10:]) < 0.8 * np.mean(history.loss[:10])
    predicted, weights = answer_stories(reader, stories[:10], vocab, answers)
    assert len(predicted) == 10 and weights.shape[:2] == (10, 2)
