"""Question answering over generated stories, in the style of bAbI (Weston et al. 2015), lecture 10.

    Mary moved to the bathroom. John went to the hallway. Where is Mary?   -> bathroom

Two task types, generated from a seed with their answers and **supporting facts** (the
sentences the answer follows from), so a model's attention can be checked against them:

* ``"single"`` (one supporting fact): people move around; "Where is X?" The answer is X's last
  location; the support is the last sentence that moved X.
* ``"two"`` (two supporting facts): people also pick up and drop objects; "Where is the O?"
  The answer is where O's holder is (or was, when they dropped it); the support is the
  sentence where O was picked up or dropped, and the holder's last move before that moment.

Every story is built so that the answer is determined by its own sentences (a person is placed
before they pick anything up). Splits are drawn from separate seeds.

:class:`Reader` reads a story the way the slides' attention reader does: a GRU encodes each
sentence, a second GRU runs over the sentence vectors (so each knows what came before; its state is
added to the sentence's own vector), a GRU encodes the question, and the question attends over the sentences, ``hops`` times (the query
updated by what it read, as in memory networks, Sukhbaatar et al. 2015); the answer is read
from ``[context; question]``.

Shape legend: N stories, M sentences, L words per sentence, Q question words, H hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .attention import Attention
from .seqdata import PAD_ID, TokenVocab, pad_batch

PEOPLE = ("Mary", "John", "Sandra", "Daniel")
PLACES = ("bathroom", "hallway", "kitchen", "garden", "office", "bedroom")
OBJECTS = ("football", "apple", "milk")
MOVES = ("moved to", "went to", "journeyed to", "travelled to", "went back to")
GETS, DROPS = ("picked up", "got", "grabbed"), ("dropped", "put down", "discarded")
TASKS = ("single", "two")


@dataclass
class Story:
    sentences: list[str]
    question: str
    answer: str
    support: list[int]   # indices of the supporting sentences
    task: str


def _single(rng: np.random.Generator, max_sentences: int) -> Story:
    n = int(rng.integers(2, max_sentences + 1))
    where, last, sentences = {}, {}, []
    for i in range(n):
        p, l = PEOPLE[rng.integers(len(PEOPLE))], PLACES[rng.integers(len(PLACES))]
        sentences.append(f"{p} {MOVES[rng.integers(len(MOVES))]} the {l}.")
        where[p], last[p] = l, i
    p = sorted(where)[rng.integers(len(where))]
    return Story(sentences, f"Where is {p}?", where[p], [last[p]], "single")


def _two(rng: np.random.Generator, max_sentences: int) -> Story:
    """Moves, pick-ups and drops; the question asks for an object someone has touched."""
    while True:
        n = int(rng.integers(3, max_sentences + 1))
        where, moved_at = {}, {}                       # person -> place, -> index of the last move
        holder, obj_at = {}, {}                        # object -> person holding it; object -> (place, support)
        sentences = []
        for i in range(n):
            placed = [p for p in PEOPLE if p in where]
            free = [o for o in OBJECTS if o not in holder]
            r = rng.random()
            if placed and free and r < 0.3:
                p, o = placed[rng.integers(len(placed))], free[rng.integers(len(free))]
                sentences.append(f"{p} {GETS[rng.integers(len(GETS))]} the {o}.")
                holder[o] = p
                obj_at.pop(o, None)
                continue
            held = [o for o in OBJECTS if o in holder]
            if held and r < 0.45:
                o = held[rng.integers(len(held))]
                p = holder.pop(o)
                sentences.append(f"{p} {DROPS[rng.integers(len(DROPS))]} the {o}.")
                obj_at[o] = (where[p], [i, moved_at[p]])
                continue
            p, l = PEOPLE[rng.integers(len(PEOPLE))], PLACES[rng.integers(len(PLACES))]
            sentences.append(f"{p} {MOVES[rng.integers(len(MOVES))]} the {l}.")
            where[p], moved_at[p] = l, i
        touched = sorted(set(holder) | set(obj_at))
        if not touched:
            continue
        o = touched[rng.integers(len(touched))]
        if o in holder:
            p = holder[o]
            got = max(i for i, s in enumerate(sentences) if s.endswith(f" the {o}."))  # the last mention: p's pick-up
            return Story(sentences, f"Where is the {o}?", where[p], sorted({got, moved_at[p]}), "two")
        place, support = obj_at[o]
        return Story(sentences, f"Where is the {o}?", place, sorted(set(support)), "two")


def make_stories(n: int, task: str, seed: int = 0, max_sentences: int = 8) -> list[Story]:
    """``n`` stories of ``task`` ("single" or "two") with 2..``max_sentences`` sentences."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    rng = np.random.default_rng(seed)
    make = _single if task == "single" else _two
    return [make(rng, max_sentences) for _ in range(n)]


def words(text: str) -> list[str]:
    return text.lower().replace(".", " ").replace("?", " ").split()


def story_vocab() -> tuple[TokenVocab, TokenVocab]:
    """(word vocabulary, answer vocabulary): every word the generators can write; answers are places."""
    tokens = {"the", "where", "is"} | {w for p in PEOPLE for w in words(p)} | set(PLACES) | set(OBJECTS)
    for phrase in MOVES + GETS + DROPS:
        tokens |= set(words(phrase))
    return TokenVocab(sorted(tokens)), TokenVocab(list(PLACES))


def encode_stories(stories: list[Story], vocab: TokenVocab, answers: TokenVocab):
    """``(story (N, M, L), sentence_mask (N, M), question (N, Q), answer (N,))`` as int64 / bool tensors."""
    M = max(len(s.sentences) for s in stories)
    L = max(len(words(x)) for s in stories for x in s.sentences)
    story = torch.full((len(stories), M, L), PAD_ID, dtype=torch.long)
    for i, s in enumerate(stories):
        for j, sentence in enumerate(s.sentences):
            ids = vocab.encode(words(sentence), unknown="raise")
            story[i, j, :len(ids)] = torch.tensor(ids)
    mask = story[:, :, 0] != PAD_ID
    question, _ = pad_batch([vocab.encode(words(s.question), unknown="raise") for s in stories])
    answer = torch.tensor([answers.stoi[s.answer] for s in stories])
    return story, mask, question, answer


def _last_state(rnn: nn.GRU, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    packed = nn.utils.rnn.pack_padded_sequence(x, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False)
    return rnn(packed)[1][-1]                                           # (N, H)


class Reader(nn.Module):
    """Sentence GRU -> story GRU -> question attends over the sentences (``hops`` times) -> answer.

    ``forward(story (N, M, L), mask (N, M), question (N, Q))`` -> ``(logits (N, A), weights (N, hops, M))``.
    """

    def __init__(self, vocab_size: int, num_answers: int, hidden_size: int = 32, hops: int = 2,
                 score: str = "general"):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, hidden_size, padding_idx=PAD_ID)
        self.sentence_rnn = nn.GRU(hidden_size, hidden_size, batch_first=True)
        self.story_rnn = nn.GRU(hidden_size, hidden_size, batch_first=True)
        self.question_rnn = nn.GRU(hidden_size, hidden_size, batch_first=True)
        self.attention = Attention(hidden_size, hidden_size, score)
        self.hops = hops
        self.out = nn.Linear(2 * hidden_size, num_answers)

    def forward(self, story, mask, question):
        N, M, L = story.shape
        flat = story.reshape(N * M, L)                                  # every sentence on its own
        sent = _last_state(self.sentence_rnn, self.embedding(flat), (flat != PAD_ID).sum(1)).reshape(N, M, -1)
        memory = sent + self.story_rnn(sent)[0]                         # (N, M, H): the sentence and its context
        q = _last_state(self.question_rnn, self.embedding(question), (question != PAD_ID).sum(1))
        query, weights = q, []
        for _ in range(self.hops):
            read, w = self.attention(query, memory, mask)               # (N, H), (N, M)
            query = query + read
            weights.append(w)
        return self.out(torch.cat([read, q], -1)), torch.stack(weights, 1)


def train_reader(model: Reader, stories: list[Story], vocab: TokenVocab, answers: TokenVocab, steps: int,
                 batch_size: int = 64, lr: float = 3e-3, seed: int = 0, live_plot: bool | None = None):
    """Adam on random batches of ``stories``; returns a ``utils.train.History``."""
    from .train import train

    device = next(model.parameters()).device
    rng = np.random.default_rng(seed)
    encoded = encode_stories(stories, vocab, answers)

    def batches():
        while True:
            i = torch.as_tensor(rng.integers(0, len(stories), batch_size))
            yield [t[i].to(device) for t in encoded]

    def loss(batch):
        logits, _ = model(*batch[:3])
        return nn.functional.cross_entropy(logits, batch[3])

    model.train()
    history = train(model, torch.optim.Adam(model.parameters(), lr=lr), batches(), loss, steps=steps,
                    clip_norm=1.0, live_plot=live_plot, desc="reader")
    model.eval()
    return history


@torch.no_grad()
def answer_stories(model: Reader, stories: list[Story], vocab: TokenVocab, answers: TokenVocab):
    """``(predicted answers list[str], attention weights (N, hops, M) numpy)``."""
    model.eval()
    device = next(model.parameters()).device
    story, mask, question, _ = (t.to(device) for t in encode_stories(stories, vocab, answers))
    logits, weights = model(story, mask, question)
    return [answers.itos[i] for i in logits.argmax(-1).tolist()], weights.cpu().numpy()
