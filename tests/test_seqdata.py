"""Date and number data: deterministic, well-posed (one date per string), split by key, padded right."""

import datetime as dt
from collections import defaultdict

import pytest
import torch
from num2words import num2words

from utils.seqdata import (DATE_FORMATS, DATE_LOCALES, END_ID, PAD_ID, START_ID, UNK_ID, TokenVocab,
                           make_dates, make_numbers, pad_batch, render_date)


@pytest.fixture(scope="module")
def dates():
    return make_dates(3000, 300, 600, seed=1)


@pytest.fixture(scope="module")
def numbers():
    return make_numbers(3000, 300, 600, seed=1)


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data():
    a, b, c = make_dates(200, 20, 20, seed=5), make_dates(200, 20, 20, seed=5), make_dates(200, 20, 20, seed=6)
    assert a.train.sources == b.train.sources and a.test.targets == b.test.targets
    assert a.train.sources != c.train.sources
    n1, n2 = make_numbers(200, 20, 20, seed=5), make_numbers(200, 20, 20, seed=5)
    assert n1.train.sources == n2.train.sources and n1.src_vocab.itos == n2.src_vocab.itos


@pytest.mark.parametrize("which", ["dates", "numbers"])
def test_splits_share_no_key_and_have_the_asked_sizes(which, dates, numbers):
    data = dates if which == "dates" else numbers
    keys = [set(data.split(s).keys) for s in ("train", "val", "test")]
    assert [len(k) for k in keys] == [3000, 300, 600]                     # distinct keys within a split
    assert not (keys[0] & keys[1]) and not (keys[0] & keys[2]) and not (keys[1] & keys[2])
    assert not set(data.train.targets) & set(data.test.targets)           # nor the same target string


def test_date_targets_are_iso_and_sources_render_the_key(dates):
    for src, tgt, key, info in zip(dates.test.sources, dates.test.targets, dates.test.keys, dates.test.info):
        assert tgt == key.isoformat() and len(tgt) == 10
        locale, fmt = info.split(" ", 1)
        assert src == render_date(key, locale, fmt)
        assert str(key.year) in src                                       # a four-digit year, always


def test_every_locale_and_format_appears(dates):
    used = set(dates.train.info)
    assert {i.split(" ", 1)[0] for i in used} == set(DATE_LOCALES)
    assert {i.split(" ", 1)[1] for i in used} == set(DATE_FORMATS)


@pytest.mark.parametrize("year", [1999, 2024])
def test_no_rendering_means_two_dates(year):
    """Every (locale, format) of every day of a year (2024: a leap year): each string names one date.

    The year is written out in full in every format, so one year at a time covers the whole range."""
    meaning = defaultdict(set)
    day = dt.date(year, 1, 1)
    while day.year == year:
        for locale in DATE_LOCALES:
            for fmt in DATE_FORMATS:
                text = render_date(day, locale, fmt)
                assert str(year) in text, (locale, fmt, text)
                meaning[text].add(day)
        day += dt.timedelta(days=1)
    ambiguous = {t: d for t, d in meaning.items() if len(d) > 1}
    assert not ambiguous, list(ambiguous.items())[:3]


def test_number_sources_are_num2words_and_lengths_vary(numbers):
    for src, tgt, key, lang in zip(numbers.test.sources[:300], numbers.test.targets, numbers.test.keys, numbers.test.info):
        assert tgt == str(key) and src == num2words(key, lang=lang)
    digits = {len(t) for t in numbers.train.targets}
    assert digits == {1, 2, 3, 4, 5, 6}
    six = sum(len(t) == 6 for t in numbers.train.targets) / len(numbers.train)
    assert six < 0.3                                                      # not 90 % six-digit numbers


def test_vocabularies_have_the_special_tokens_first(dates):
    for vocab in (dates.src_vocab, dates.tgt_vocab):
        assert vocab.itos[:4] == ["<pad>", "<s>", "</s>", "<unk>"]
        assert (vocab.pad_id, vocab.start_id, vocab.end_id, vocab.unk_id) == (PAD_ID, START_ID, END_ID, UNK_ID) == (0, 1, 2, 3)
    assert "".join(dates.tgt_vocab.itos[4:]) == "-0123456789"
    text = dates.train.sources[0]
    assert dates.src_vocab.decode(dates.src_vocab.encode(text, start=True, end=True)) == text
    assert dates.src_vocab.encode("\u4e00")[0] == UNK_ID                   # a character never seen in training
    with pytest.raises(ValueError, match="not in the vocabulary"):
        dates.tgt_vocab.encode("2023/01/01", unknown="raise")


def test_batches_are_padded_and_shifted(dates):
    batch = dates.batch("train", [0, 1, 2])
    N, T = batch.tgt_in.shape
    assert batch.tgt_out.shape == (N, T) and batch.src.shape[0] == N
    assert torch.all(batch.tgt_in[:, 0] == START_ID)
    assert torch.equal(batch.tgt_in[:, 1:], batch.tgt_out[:, :-1])         # the same sequence, one step later
    assert torch.all(batch.tgt_out[:, -1] == END_ID)                       # every date: 10 characters + </s>
    for i in range(N):
        L = int(batch.src_lengths[i])
        assert dates.src_vocab.decode(batch.src[i, :L]) == dates.train.sources[i]
        assert torch.all(batch.src[i, L:] == PAD_ID)


def test_pad_batch_and_bad_requests_are_explained():
    ids, lengths = pad_batch([[5, 6, 7], [8]])
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0]] and lengths.tolist() == [3, 1]
    with pytest.raises(ValueError, match="empty sequence"):
        pad_batch([[1], []])
    with pytest.raises(ValueError, match="only 36525 distinct keys"):
        make_dates(40_000, 0, 0)
    with pytest.raises(ValueError, match="unknown locale"):
        make_dates(10, 1, 1, locales=("xx_YY",))
    with pytest.raises(ValueError, match="num2words has no language"):
        make_numbers(10, 1, 1, languages=("tlh",))
    assert TokenVocab(["b", "a", "<s>"]).itos == ["<pad>", "<s>", "</s>", "<unk>", "a", "b"]
