"""Image captioning in miniature (lecture 10): strips of handwritten digits captioned in words.

The images are scikit-learn's bundled digits (1,797 handwritten 8x8 digits, UCI; nothing is
downloaded). A *strip* places 3-5 of them side by side on an 8 x 48 canvas, from the left,
with random gaps of 0-2 blank columns; its caption is the digits in words, ``"three one four"``.
The handwriting is split first (80 % of the digit images for training strips, 20 % for
test strips), so a test strip is made of digits the model has never seen.

:class:`Captioner` is "show, attend and tell" (Xu et al. 2015) at this scale: a small CNN turns
the image into 21 feature vectors, one per 8 x 8 window every 2 pixel columns (the annotation
vectors), and the attention decoder of :mod:`utils.seq2seq` reads them like a source sentence:
at each word it attends over the 21 window positions, so each word comes with a map of where
the model looked.

Shape legend: N batch, 1 x 8 x W images, P = (W - 8) / 2 + 1 window positions, F features,
T caption length.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .decoding import greedy_decode
from .seq2seq import Decoder, Memory
from .seqdata import END_ID, PAD_ID, START_ID, TokenVocab, pad_batch

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
HEIGHT, WIDTH = 8, 48


@functools.lru_cache(maxsize=1)
def digit_images() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits: images (1797, 8, 8) float32 in [0, 1] and labels (1797,)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    return (digits.images / 16.0).astype(np.float32), digits.target.astype(np.int64)


@dataclass
class Strips:
    """Images (N, 1, 8, W) float32, the digits of each strip, and their captions in words."""

    images: np.ndarray
    digits: list[list[int]]
    captions: list[str]
    boxes: list[list[tuple[int, int]]]  # each digit's (left, right) columns

    def __len__(self) -> int:
        return len(self.captions)


def make_strips(n: int, lengths=(3, 4, 5), pool: str = "train", seed: int = 0, width: int = WIDTH,
                max_gap: int = 2, max_margin: int = 2) -> Strips:
    """``n`` strips of ``lengths`` digits drawn from the ``pool`` ("train": 80 % of the digit images, "test": the rest).

    Digits are 8 pixels wide, separated by 0..``max_gap`` blank columns, after a left margin of
    0..``max_margin`` columns (the rest of the canvas is blank). Raises if the digits cannot fit.
    """
    if pool not in ("train", "test"):
        raise ValueError(f"pool must be 'train' or 'test', got {pool!r}")
    longest = max(lengths)
    if 8 * longest > width:
        raise ValueError(f"{longest} digits need {8 * longest} columns but the canvas has {width}; widen it")
    images, labels = digit_images()
    order = np.random.default_rng(1234).permutation(len(labels))          # one fixed split of the handwriting
    cut = int(0.8 * len(order))
    index = order[:cut] if pool == "train" else order[cut:]
    by_digit = {d: index[labels[index] == d] for d in range(10)}
    rng = np.random.default_rng(seed)
    canvas = np.zeros((n, 1, HEIGHT, width), dtype=np.float32)
    digits, captions, boxes = [], [], []
    for i in range(n):
        L = int(rng.choice(lengths))
        ds = rng.integers(0, 10, size=L).tolist()
        gaps = rng.integers(0, max_gap + 1, size=L - 1) if L > 1 else np.zeros(0, dtype=int)
        while 8 * L + gaps.sum() > width:
            gaps = np.maximum(gaps - 1, 0)
        x = int(rng.integers(0, min(max_margin, width - (8 * L + int(gaps.sum()))) + 1))
        box = []
        for j, d in enumerate(ds):
            canvas[i, 0, :, x:x + 8] = images[rng.choice(by_digit[d])]
            box.append((x, x + 8))
            x += 8 + (int(gaps[j]) if j < L - 1 else 0)
        digits.append(ds)
        captions.append(" ".join(DIGIT_WORDS[d] for d in ds))
        boxes.append(box)
    return Strips(canvas, digits, captions, boxes)


def caption_vocab() -> TokenVocab:
    """Word vocabulary: the specials, then the ten digit words."""
    return TokenVocab(list(DIGIT_WORDS))


def caption_batch(strips: Strips, index, vocab: TokenVocab):
    """``(images (N, 1, 8, W), tgt_in (N, T), tgt_out (N, T))`` for teacher forcing."""
    index = np.asarray(index).reshape(-1)
    words = [vocab.encode(strips.captions[i].split(), unknown="raise") for i in index]
    tgt_in, _ = pad_batch([[START_ID] + w for w in words])
    tgt_out, _ = pad_batch([w + [END_ID] for w in words])
    return torch.as_tensor(strips.images[index]), tgt_in, tgt_out


class ConvEncoder(nn.Module):
    """(N, 1, 8, W) -> annotation vectors (N, P, F), one per window position, and their mean (N, F).

    A digit is 8 x 8 pixels, so the first convolution looks at whole 8 x 8 windows, every 2 pixel
    columns (P = (W - 8) / 2 + 1 = 21 windows on a 48-column strip); a second, 1 x 3 convolution
    mixes each window with its neighbours. Convolutions see *what* is in a window but not *where*
    it is, and a decoder that reads a strip left to right needs both, so a learned embedding of
    each position is added (as Transformers add position embeddings to words).
    """

    def __init__(self, channels: int = 32, features: int = 64, width: int = WIDTH):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, channels, (HEIGHT, 8), stride=(1, 2)), nn.ReLU(),     # (N, C, 1, P)
            nn.Conv2d(channels, features, (1, 3), padding=(0, 1)),
        )
        self.positions = (width - 8) // 2 + 1
        self.position = nn.Parameter(torch.randn(self.positions, features) * 0.5)
        self.output_size = features

    def forward(self, images: torch.Tensor):
        f = self.net(images)[:, :, 0]                                      # (N, F, P)
        if f.shape[-1] != self.positions:
            raise ValueError(f"images are {tuple(images.shape[-2:])}; this encoder was built for "
                             f"({HEIGHT}, {2 * (self.positions - 1) + 8})")
        states = torch.tanh(f.transpose(1, 2) + self.position)             # (N, P, F)
        return states, states.mean(1)

    def window(self, p: int) -> tuple[int, int]:
        """The pixel columns [left, right) that position ``p`` looks at (the centre 2 columns are its own)."""
        return 2 * p, 2 * p + 8


class Captioner(nn.Module):
    """CNN encoder + the attention decoder of :mod:`utils.seq2seq` (dot scores, a start token)."""

    def __init__(self, vocab_size: int, channels: int = 32, hidden_size: int = 64, embed_size: int = 16,
                 attention: str | None = "dot", input_feeding: bool = True, width: int = WIDTH):
        super().__init__()
        self.encoder = ConvEncoder(channels, hidden_size, width)
        self.decoder = Decoder(vocab_size, embed_size, hidden_size, hidden_size, attention, input_feeding)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def encode(self, images: torch.Tensor) -> Memory:
        states, summary = self.encoder(images)
        mask = torch.ones(states.shape[:2], dtype=torch.bool, device=states.device)   # every grid cell is real
        return Memory(states, mask, summary)

    def loss(self, images, tgt_in, tgt_out) -> torch.Tensor:
        logits, _ = self.decoder(tgt_in, self.encode(images))
        return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1),
                                           ignore_index=PAD_ID)

    @torch.no_grad()
    def caption(self, images: np.ndarray | torch.Tensor, vocab: TokenVocab, max_len: int = 8):
        """Greedy captions and attention over the P window positions: ``(captions, maps list[(T_out, P)])``."""
        self.eval()
        images = torch.as_tensor(images, device=self.device)
        memory = self.encode(images)
        record: list[torch.Tensor] = []

        def step(tokens, state):
            logits, state, weights = self.decoder.step(tokens.to(self.device), state, memory)
            record.append(weights.cpu())
            return torch.log_softmax(logits, -1), state

        tokens, _ = greedy_decode(step, self.decoder.initial_state(memory), len(images), START_ID, END_ID, max_len)
        weights = torch.stack(record, 1).numpy()                           # (N, steps, P)
        captions, maps = [], []
        for i, toks in enumerate(tokens):
            captions.append(vocab.decode(toks, sep=" "))
            maps.append(weights[i, :len(toks) + 1])                        # (words + </s>, P): one row per word
        return captions, maps


def train_captioner(model: Captioner, strips: Strips, vocab: TokenVocab, steps: int, batch_size: int = 64,
                    lr: float = 3e-3, seed: int = 0, live_plot: bool | None = None):
    """Adam, teacher forcing, fresh random batches of training strips; returns a ``utils.train.History``."""
    from .train import train

    rng = np.random.default_rng(seed)
    device = model.device

    def batches():
        while True:
            yield [t.to(device) for t in caption_batch(strips, rng.integers(0, len(strips), batch_size), vocab)]

    model.train()
    history = train(model, torch.optim.Adam(model.parameters(), lr=lr), batches(), lambda b: model.loss(*b),
                    steps=steps, clip_norm=1.0, live_plot=live_plot, desc="captioner")
    model.eval()
    return history


def attended_digits(strips: Strips, i: int, maps: np.ndarray) -> list[int | None]:
    """For each row of ``maps`` (P,) (one generated word): which digit of strip ``i`` its attention peak is on.

    The peak is a window position p, whose window covers columns [2p, 2p + 8); the digit is the
    one whose columns contain the window's centre, 2p + 4 (0 = leftmost; None: a gap).
    """
    out = []
    for row in np.atleast_2d(maps):
        centre = 2 * int(np.argmax(row)) + 4
        out.append(next((j for j, (lo, hi) in enumerate(strips.boxes[i]) if lo <= centre < hi), None))
    return out
