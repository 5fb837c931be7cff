"""utils.classify: surname and BasicMotions data, padding and packing, the classifier, metrics."""

import numpy as np
import pytest
import torch

from utils.classify import (SURNAME_LOCALES, CharVocab, RNNClassifier, balanced_accuracy, class_weights, confusion,
                            encode_names, load_basic_motions, load_surnames, pad_batch, per_class_recall,
                            plot_confusion, plot_recall, predict)


@pytest.fixture(scope="module")
def surnames():
    return load_surnames(seed=0)


def test_surnames_are_split_per_class_without_overlap_or_ambiguity(surnames):
    d = surnames
    assert d.classes == sorted(SURNAME_LOCALES)
    train, val, test = (set(s[0]) for s in (d.train, d.val, d.test))
    assert not (train & val or train & test or val & test)
    assert d.dropped > 0                                  # names listed under several languages are left out
    n = d.counts("train") + d.counts("val") + d.counts("test")
    assert np.allclose(d.counts("train") / n, 0.7, atol=0.02)
    assert (d.counts("test") > 0).all()
    assert d.counts("train").max() / d.counts("train").min() > 10   # imbalanced, which lecture 07 discusses
    every = d.train[0] + d.val[0] + d.test[0]
    assert len(every) == len(set(every))                                # one label per name
    from utils.classify import _faker_surnames
    both = _faker_surnames("cs_CZ") & _faker_surnames("sk_SK")
    assert both and not both & set(every)                               # e.g. a name both Czech and Slovak


def test_surname_split_is_reproducible_and_seeded(surnames):
    again = load_surnames(seed=0)
    other = load_surnames(seed=1)
    assert again.train[0] == surnames.train[0] and other.train[0] != surnames.train[0]
    with pytest.raises(ValueError, match="unknown languages"):
        load_surnames(["Klingon"])
    with pytest.raises(ValueError, match="fractions"):
        load_surnames(fractions=(0.5, 0.5, 0.5))


def test_vocab_reserves_padding_and_unknown():
    v = CharVocab.from_texts(["ab", "ba"])
    assert v.itos[:2] == ["<pad>", "<unk>"] and v.encode("abz").tolist() == [2, 3, 1]
    with pytest.raises(ValueError, match="empty"):
        v.encode("")


def test_pad_batch_pads_with_zeros_and_returns_lengths():
    ids, lengths = pad_batch([np.array([5, 6, 7]), np.array([8])])
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0]] and lengths.tolist() == [3, 1]
    with pytest.raises(ValueError, match="empty"):
        pad_batch([np.array([1]), np.array([], dtype=np.int64)])


@pytest.mark.parametrize("cell,bidirectional", [("lstm", False), ("gru", True), ("rnn", False)])
def test_classifier_reads_each_sequence_to_its_own_end(cell, bidirectional):
    torch.manual_seed(0)
    v = CharVocab.from_texts(["abcdef"])
    model = RNNClassifier(3, 8, vocab_size=len(v), cell=cell, bidirectional=bidirectional).eval()
    names = ["abc", "fedcba", "a"]
    ids, lengths = encode_names(names, v)
    batch = model(ids, lengths)
    alone = torch.cat([model(*encode_names([n], v)) for n in names])
    assert torch.allclose(batch, alone, atol=1e-6)                      # padding changes nothing
    assert not torch.allclose(model(ids), batch)                        # ignoring lengths reads the pads
    assert predict(model, ids, lengths).tolist() == batch.argmax(-1).tolist()


@pytest.mark.slow
def test_classifier_learns_a_toy_task_and_real_valued_inputs_work():
    torch.manual_seed(0)
    # class = whether the sequence contains the id 3, at any position: needs the whole sequence
    rng = np.random.default_rng(0)
    seqs = [rng.integers(4, 8, size=rng.integers(2, 9)) for _ in range(256)]
    labels = np.array([k % 2 for k in range(256)])
    for s, y in zip(seqs, labels):
        if y:
            s[rng.integers(0, len(s))] = 3
    ids, lengths = pad_batch(seqs)
    y = torch.as_tensor(labels)
    model = RNNClassifier(2, 16, vocab_size=8, cell="gru")
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(150):
        loss = torch.nn.functional.cross_entropy(model(ids, lengths), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert (predict(model, ids, lengths) == labels).mean() > 0.95
    series = RNNClassifier(4, 8, input_size=6)
    assert series(torch.zeros(2, 10, 6)).shape == (2, 4)
    with pytest.raises(ValueError, match="exactly one"):
        RNNClassifier(2, 8)


def test_basic_motions_loads_offline_batch_first_and_standardised():
    d = load_basic_motions()
    assert d["X_train"].shape == (40, 100, 6) and d["X_test"].shape == (40, 100, 6)
    assert sorted(d["classes"]) == ["Badminton", "Running", "Standing", "Walking"]
    assert np.bincount(d["y_train"]).tolist() == [10, 10, 10, 10]
    assert np.allclose(d["X_train"].mean(axis=(0, 1)), 0, atol=1e-4)
    assert np.allclose(d["X_train"].std(axis=(0, 1)), 1, atol=1e-3)


def test_metrics_and_weights():
    y_true = np.array([0, 0, 0, 0, 1, 1, 2])
    y_pred = np.array([0, 0, 0, 1, 1, 0, 0])
    cm = confusion(y_true, y_pred, 3)
    assert cm.tolist() == [[3, 1, 0], [1, 1, 0], [1, 0, 0]]
    assert np.allclose(per_class_recall(cm), [0.75, 0.5, 0.0])
    assert balanced_accuracy(cm) == pytest.approx(1.25 / 3)
    w = class_weights(y_true, 3)
    assert torch.allclose(w, torch.tensor([7 / 12, 7 / 6, 7 / 3]))
    assert float((w[torch.as_tensor(y_true)]).mean()) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="no training example"):
        class_weights(np.array([0, 0]), 2)


def test_plots_draw(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    cm = np.array([[5, 1], [2, 2]])
    ax = plot_confusion(cm, ["a", "b"])
    assert ax.get_xlabel() == "predicted"
    ax = plot_recall(per_class_recall(cm), ["a", "b"], counts=np.array([6, 4]))
    assert "training examples" in ax.get_title()
    ax.figure.savefig(tmp_path / "recall.png")
