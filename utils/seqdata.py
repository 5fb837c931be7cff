"""Sequence-to-sequence data, generated offline from a seed: dates and numbers in many languages.

Two translation tasks with a single right answer per input (lectures 08-10, assignment 3):

* **dates**: a date written the way people write it, in one of several locales and formats
  (Babel renders them from the Unicode CLDR data it ships: ``"Dienstag, 7. März 2023"``,
  ``"7 de marzo de 2023"``, ``"Mar 7, 2023"``) -> ISO 8601 ``"2023-03-07"``. Every format
  has a **four-digit year**, and the only all-numeric formats are ``dd.MM.yyyy`` and
  ``yyyy/MM/dd`` (never month-first), so no input can mean two dates: with two-digit years
  or ``03/07`` read both ways the task is ambiguous and a model plateaus below 100 % for that
  reason alone. ``tests/test_seqdata.py`` checks that no rendering is shared by two dates.
* **numbers**: an integer written in words by ``num2words`` (English, French, German,
  Spanish, Italian: ``"soixante-quatorze mille trois cent vingt-neuf"``) -> its digits
  ``"74329"``. Long inputs with a clear, mostly monotonic alignment.

Each example has a **key** (the date, the number). The splits are made by key: a date or a
number is in exactly one of train, validation and test, whatever its rendering, so a model
cannot score on the test split by remembering a training example.

Sources and targets are character sequences; :class:`TokenVocab` maps them to ids with the
special tokens ``<pad>`` (0), ``<s>`` (1, start), ``</s>`` (2, end) and ``<unk>`` (3).
:meth:`Seq2SeqData.batch` returns padded, batch-first id tensors.

Shape legend: N batch, S source length, T target length (with ``<s>`` or ``</s>``), V vocabulary.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Hashable, Sequence

import numpy as np

PAD, START, END, UNK = "<pad>", "<s>", "</s>", "<unk>"
SPECIALS = (PAD, START, END, UNK)
PAD_ID, START_ID, END_ID, UNK_ID = range(4)

DATE_LOCALES = ("en_US", "en_GB", "fr_FR", "de_DE", "es_ES", "it_IT", "pt_BR", "nl_NL")
# CLDR's own "medium", "long" and "full" formats of each locale, plus explicit patterns (CLDR
# pattern letters: d day, MMM/MMMM month name, EEEE weekday, yyyy four-digit year).
DATE_FORMATS = ("medium", "long", "full", "d MMMM yyyy", "d MMM yyyy", "EEEE d MMMM yyyy",
                "MMMM d, yyyy", "EEE d MMM yyyy", "dd.MM.yyyy", "yyyy/MM/dd")
DATE_RANGE = (dt.date(1950, 1, 1), dt.date(2049, 12, 31))
NUMBER_LANGUAGES = ("en", "fr", "de", "es", "it")


# --------------------------------------------------------------------------- vocabulary

class TokenVocab:
    """Tokens (here: characters) <-> ids, with ``<pad>`` 0, ``<s>`` 1, ``</s>`` 2, ``<unk>`` 3.

    The other tokens are sorted, so the same tokens always give the same ids.
    """

    def __init__(self, tokens: Sequence[str]):
        extra = sorted(set(tokens) - set(SPECIALS))
        self.itos = list(SPECIALS) + extra
        self.stoi = {t: i for i, t in enumerate(self.itos)}
        self.pad_id, self.start_id, self.end_id, self.unk_id = PAD_ID, START_ID, END_ID, UNK_ID

    @classmethod
    def from_texts(cls, texts: Sequence[str]) -> "TokenVocab":
        """A character vocabulary of every character in ``texts``."""
        return cls([c for text in texts for c in text])

    def __len__(self) -> int:
        return len(self.itos)

    def __repr__(self) -> str:
        shown = "".join(self.itos[4:44])
        return f"TokenVocab(V={len(self)}, specials {list(SPECIALS)}, tokens {shown!r}{'...' if len(self) > 44 else ''})"

    def encode(self, text: Sequence[str], start: bool = False, end: bool = False,
               unknown: str = "unk") -> list[int]:
        """Tokens -> ids, optionally framed by ``<s>`` / ``</s>``.

        Args:
            unknown: "unk" maps an unseen token to ``<unk>``; "raise" raises naming it.
        """
        ids = [self.start_id] if start else []
        for token in text:
            i = self.stoi.get(token)
            if i is None:
                if unknown == "raise":
                    raise ValueError(f"token {token!r} is not in the vocabulary (V={len(self)}); "
                                     f"build the vocabulary from data that contains it")
                i = self.unk_id
            ids.append(i)
        if end:
            ids.append(self.end_id)
        return ids

    def decode(self, ids, sep: str = "") -> str:
        """Ids -> text: stops at the first ``</s>``, drops ``<pad>`` and ``<s>``."""
        out = []
        for i in np.asarray(ids).reshape(-1).tolist():
            if i == self.end_id:
                break
            if i in (self.pad_id, self.start_id):
                continue
            out.append(self.itos[i])
        return sep.join(out)


def pad_batch(seqs: Sequence[Sequence[int]], pad_id: int = PAD_ID):
    """Right-pad id lists into one tensor.

    Returns:
        ``ids`` (N, max length) int64 and ``lengths`` (N,) int64.
    """
    import torch

    if len(seqs) == 0:
        raise ValueError("pad_batch needs at least one sequence")
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    if int(lengths.min()) == 0:
        raise ValueError("pad_batch: an empty sequence cannot be encoded; every example needs a token")
    ids = torch.full((len(seqs), int(lengths.max())), pad_id, dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.as_tensor(list(s), dtype=torch.long)
    return ids, lengths


# --------------------------------------------------------------------------- splits

@dataclass
class Pairs:
    """One split: parallel lists of source strings, target strings and keys (date or number)."""

    sources: list[str]
    targets: list[str]
    keys: list[Hashable]
    info: list[str]  # how each source was made, e.g. "de_DE full" or "fr"

    def __len__(self) -> int:
        return len(self.sources)

    def __getitem__(self, i: int) -> tuple[str, str]:
        return self.sources[i], self.targets[i]


@dataclass
class Batch:
    """A padded batch, batch-first.

    ``src`` (N, S) and ``src_lengths`` (N,); ``tgt_in`` (N, T) starts with ``<s>``; ``tgt_out``
    (N, T) is the same shifted left, ending with ``</s>`` (teacher forcing: predict ``tgt_out[:, t]``
    having read ``tgt_in[:, :t+1]``); padding is ``<pad>`` (0) in all three.
    """

    src: "object"
    src_lengths: "object"
    tgt_in: "object"
    tgt_out: "object"

    def to(self, device) -> "Batch":
        return Batch(*(t.to(device) for t in (self.src, self.src_lengths, self.tgt_in, self.tgt_out)))


@dataclass
class Seq2SeqData:
    """Train/validation/test pairs and the vocabularies (built from the training split only)."""

    name: str
    train: Pairs
    val: Pairs
    test: Pairs
    src_vocab: TokenVocab
    tgt_vocab: TokenVocab

    def split(self, name: str) -> Pairs:
        if name not in ("train", "val", "test"):
            raise ValueError(f"split must be 'train', 'val' or 'test', got {name!r}")
        return getattr(self, name)

    def encode_sources(self, sources: Sequence[str]):
        """Source strings -> ``(src (N, S), src_lengths (N,))``; unseen characters become ``<unk>``."""
        return pad_batch([self.src_vocab.encode(s) for s in sources])

    def batch(self, split: str, index=None, *, size: int | None = None,
              rng: np.random.Generator | None = None) -> Batch:
        """The examples ``index`` of ``split`` (or ``size`` drawn by ``rng``) as a padded :class:`Batch`."""
        pairs = self.split(split)
        if index is None:
            if size is None or rng is None:
                raise ValueError("pass index, or both size and rng")
            index = rng.integers(0, len(pairs), size=size)
        index = np.asarray(index).reshape(-1)
        src, src_lengths = self.encode_sources([pairs.sources[i] for i in index])
        tgt = [self.tgt_vocab.encode(pairs.targets[i], unknown="raise") for i in index]
        tgt_in, _ = pad_batch([[START_ID] + t for t in tgt])
        tgt_out, _ = pad_batch([t + [END_ID] for t in tgt])
        return Batch(src, src_lengths, tgt_in, tgt_out)

    def batches(self, split: str = "train", batch_size: int = 64, seed: int = 0):
        """An endless iterator of random training batches (a fresh draw each step)."""
        rng = np.random.default_rng(seed)
        while True:
            yield self.batch(split, size=batch_size, rng=rng)


def _split_keys(keys: list, sizes: tuple[int, int, int], rng: np.random.Generator) -> list[list]:
    if min(sizes) < 0 or sum(sizes) == 0:
        raise ValueError(f"split sizes must be >= 0 with a positive sum, got {sizes}")
    if sum(sizes) > len(keys):
        raise ValueError(f"asked for {sum(sizes)} distinct examples (train+val+test = {sizes}) "
                         f"but only {len(keys)} distinct keys exist; ask for fewer or widen the range")
    chosen = rng.choice(len(keys), size=sum(sizes), replace=False)
    a, b = sizes[0], sizes[0] + sizes[1]
    return [[keys[i] for i in chosen[:a]], [keys[i] for i in chosen[a:b]], [keys[i] for i in chosen[b:]]]


def _make(name: str, parts: list[Pairs]) -> Seq2SeqData:
    train, val, test = parts
    return Seq2SeqData(name, train, val, test, TokenVocab.from_texts(train.sources),
                       TokenVocab.from_texts("0123456789-" if name == "dates" else "0123456789"))


# --------------------------------------------------------------------------- dates

def render_date(date: dt.date, locale: str, fmt: str) -> str:
    """``date`` written in ``locale`` with a CLDR format name or pattern (see :data:`DATE_FORMATS`)."""
    from babel.dates import format_date

    return format_date(date, fmt, locale=locale)


def render_dates(dates: Sequence[dt.date], rng: np.random.Generator,
                 locales: Sequence[str] = DATE_LOCALES, formats: Sequence[str] = DATE_FORMATS) -> Pairs:
    """Each date in a random (locale, format) -> its ISO form. ``info`` says which was used."""
    from babel import Locale, UnknownLocaleError
    from babel.dates import format_date

    try:
        parsed = {loc: Locale.parse(loc) for loc in locales}
    except (UnknownLocaleError, ValueError) as exc:
        raise ValueError(f"unknown locale: {exc}; Babel knows names like 'en_US', 'de_DE', 'ja_JP'") from None
    loc_idx = rng.integers(0, len(locales), size=len(dates))
    fmt_idx = rng.integers(0, len(formats), size=len(dates))
    sources, info = [], []
    for d, li, fi in zip(dates, loc_idx, fmt_idx):
        loc, fmt = locales[li], formats[fi]
        sources.append(format_date(d, fmt, locale=parsed[loc]))
        info.append(f"{loc} {fmt}")
    return Pairs(sources, [d.isoformat() for d in dates], list(dates), info)


def make_dates(n_train: int = 20_000, n_val: int = 1_000, n_test: int = 2_000, seed: int = 0,
               locales: Sequence[str] = DATE_LOCALES, formats: Sequence[str] = DATE_FORMATS,
               date_range: tuple[dt.date, dt.date] = DATE_RANGE) -> Seq2SeqData:
    """Date translation: human-readable dates -> ``YYYY-MM-DD``, split by date.

    Args:
        n_train, n_val, n_test: distinct dates per split (1950-2049 has 36,525 days).
        seed: everything (which dates, which split, which locale and format) follows from it.
        locales, formats: Babel locale names and CLDR formats to draw from.
    """
    first, last = date_range
    if last < first:
        raise ValueError(f"date_range must run forwards, got {first} .. {last}")
    rng = np.random.default_rng(seed)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    keys = _split_keys(days, (n_train, n_val, n_test), rng)
    return _make("dates", [render_dates(k, rng, locales, formats) for k in keys])


# --------------------------------------------------------------------------- numbers

def number_in_words(n: int, lang: str) -> str:
    """``num2words(n, lang=lang)``, e.g. ``number_in_words(21, "fr") == "vingt et un"``."""
    from num2words import num2words

    try:
        return num2words(int(n), lang=lang)
    except NotImplementedError:
        raise ValueError(f"num2words has no language {lang!r}; try one of {NUMBER_LANGUAGES}") from None


def make_numbers(n_train: int = 20_000, n_val: int = 1_000, n_test: int = 2_000, seed: int = 0,
                 languages: Sequence[str] = NUMBER_LANGUAGES, max_digits: int = 6) -> Seq2SeqData:
    """Numbers in words -> digits, split by number.

    The number of digits is drawn uniformly from 1..``max_digits`` and then the number uniformly
    among those with that many digits, so short and long inputs are equally common (a uniform
    draw from 0..999,999 would be 90 % six-digit numbers).
    """
    if not 1 <= max_digits <= 9:
        raise ValueError(f"max_digits must be in 1..9, got {max_digits}")
    rng = np.random.default_rng(seed)
    total = n_train + n_val + n_test
    available = sum(10 ** d - (10 ** (d - 1) if d > 1 else 0) for d in range(1, max_digits + 1))
    if total > available:
        raise ValueError(f"asked for {total} distinct numbers but only {available} have at most {max_digits} digits")
    numbers, drawn = [], set()
    left = {d: 10 ** d - (10 ** (d - 1) if d > 1 else 0) for d in range(1, max_digits + 1)}
    while len(numbers) < total:
        d = int(rng.integers(1, max_digits + 1))
        if left[d] == 0:  # all ten one-digit numbers are taken early: draw another length
            continue
        n = int(rng.integers(0 if d == 1 else 10 ** (d - 1), 10 ** d))
        if n not in drawn:
            drawn.add(n)
            numbers.append(n)
            left[d] -= 1
    keys = _split_keys(numbers, (n_train, n_val, n_test), rng)
    parts = []
    for split in keys:
        langs = rng.integers(0, len(languages), size=len(split))
        parts.append(Pairs([number_in_words(n, languages[li]) for n, li in zip(split, langs)],
                           [str(n) for n in split], list(split), [languages[li] for li in langs]))
    return _make("numbers", parts)

