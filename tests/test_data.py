import numpy as np
import pytest

from utils.data import (CORPORA, StreamBatches, Vocab, list_corpora, load_char_data, load_corpus,
                        random_windows, train_val_split)


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_builtin_corpora_load_offline_and_are_large(name):
    text = load_corpus(name)
    assert len(text) > 300_000, f"{name} has only {len(text)} characters"
    assert load_corpus(name, max_chars=1000) == text[:1000]


def test_shakespeare_is_speaker_and_speech_plain_text():
    text = load_corpus("shakespeare")
    assert "HAMLET:\n" in text and "To be, or not to be" in text
    assert "**" not in text and "\n#" not in text  # Markdown gone
    assert len(set(text)) < 100


def test_python_corpus_is_stdlib_source():
    text = load_corpus("python")
    assert "def " in text and "import " in text and "class " in text


def test_prose_is_english():
    text = load_corpus("prose")
    assert text.count(" the ") > 1000


def test_user_file(tmp_path):
    path = tmp_path / "poem.txt"
    path.write_text("roses are red\nviolets are blue\n", encoding="utf-8")
    assert load_corpus(path) == "roses are red\nviolets are blue\n"
    assert load_corpus(str(path), max_chars=5) == "roses"


def test_unknown_corpus_lists_the_choices():
    with pytest.raises(ValueError, match="unknown corpus 'shakespear'.*shakespeare, python, prose"):
        load_corpus("shakespear")
    assert set(list_corpora()) == set(CORPORA)


def test_empty_missing_and_binary_files(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n", encoding="utf-8")
    with pytest.raises(ValueError, match="empty"):
        load_corpus(empty)
    with pytest.raises(FileNotFoundError, match="no such text file"):
        load_corpus(tmp_path / "missing.txt")
    binary = tmp_path / "data.bin"
    binary.write_bytes(b"\xff\xfe\x00abc")
    with pytest.raises(ValueError, match="not UTF-8"):
        load_corpus(binary)
    with pytest.raises(ValueError, match="folder"):
        load_corpus(tmp_path)


def test_vocab_round_trip_and_unknown_char():
    vocab = Vocab.from_text("hello")
    assert vocab.itos == ["e", "h", "l", "o"] and len(vocab) == 4
    ids = vocab.encode("hello")
    assert ids.dtype == np.int64 and ids.tolist() == [1, 0, 2, 2, 3]
    assert vocab.decode(ids) == "hello"
    with pytest.raises(ValueError, match="character 'z' is not in the vocabulary"):
        vocab.encode("hez")


def test_split_is_contiguous():
    ids = np.arange(100)
    train, val = train_val_split(ids, 0.1)
    assert train.tolist() == list(range(90)) and val.tolist() == list(range(90, 100))
    with pytest.raises(ValueError):
        train_val_split(ids, 1.5)


def test_load_char_data_bundles_everything():
    data = load_char_data("prose", max_chars=5000)
    assert len(data.train) + len(data.val) == 5000
    assert data.vocab.decode(data.train[:50]) == data.text[:50]


def test_stream_batches_continue_each_row():
    ids = np.arange(1000)
    batches = list(StreamBatches(ids, batch_size=4, seq_len=7))
    assert len(batches) == len(StreamBatches(ids, 4, 7)) == (999 // 4) // 7
    for (x0, y0), (x1, y1) in zip(batches, batches[1:]):
        assert x0.shape == (4, 7)
        # Row i of batch b+1 starts exactly where row i of batch b ended.
        np.testing.assert_array_equal(x1[:, 0], x0[:, -1] + 1)
    for x, y in batches:
        np.testing.assert_array_equal(y, x + 1)  # targets are the next character
    # Each row is one contiguous stretch of the text, rows in text order.
    rows = np.concatenate([x for x, _ in batches], axis=1)
    assert all(np.all(np.diff(r) == 1) for r in rows)
    assert np.all(np.diff(rows[:, 0]) > 0)


def test_stream_batches_offset_and_too_short():
    x, _ = next(iter(StreamBatches(np.arange(100), 2, 5, offset=3)))
    assert x[0, 0] == 3
    with pytest.raises(ValueError, match="too few"):
        StreamBatches(np.arange(10), batch_size=4, seq_len=5)


def test_random_windows_are_aligned_and_seeded():
    ids = np.arange(500)
    x, y = random_windows(ids, 8, 10, np.random.default_rng(0))
    x2, _ = random_windows(ids, 8, 10, np.random.default_rng(0))
    assert x.shape == (8, 10)
    np.testing.assert_array_equal(y, x + 1)
    np.testing.assert_array_equal(x, x2)


def test_three_way_split_is_contiguous_in_reading_order():
    from utils.data import SHAKESPEARE_LECTURE_SPLIT, train_val_test_split

    ids = np.arange(1000)
    train, val, test = train_val_test_split(ids, 0.1, 0.2)
    assert (len(train), len(val), len(test)) == (700, 100, 200)
    assert np.array_equal(np.concatenate([train, val, test]), ids)
    with pytest.raises(ValueError, match="sum below 1"):
        train_val_test_split(ids, 0.5, 0.5)
    data = load_char_data(**SHAKESPEARE_LECTURE_SPLIT)
    assert (len(data.train), len(data.val), len(data.test)) == (270_000, 30_000, 30_000)
    # The lecture split keeps lecture 02's original train and validation text.
    old = load_char_data("shakespeare", max_chars=300_000)
    assert data.vocab.decode(data.train) == old.vocab.decode(old.train)
    assert data.vocab.decode(data.val) == old.vocab.decode(old.val)
    assert load_char_data("shakespeare", max_chars=5000).test.size == 0
