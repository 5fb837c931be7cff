"""Answer key of lecture 08's "check your understanding" (``check("08.<name>", answer)``)."""

from __future__ import annotations

from ..bleu import sentence_bleu
from ..decoding import TinyLM, all_sequences, beam_search
from . import Question

V, K = 15, 3  # the questions' vocabulary and beam sizes


def _sequences_of_three() -> int:
    return sum(1 for s in all_sequences(range(V), 3) if len(s) == 3)


def _candidates_per_step() -> int:
    """How many candidates beam search scores at a step where all k hypotheses are live."""
    lm = TinyLM(vocab_size=V, seed=0, temperature=2.0)
    trace = beam_search(lm.step, lm.initial_state(), lm.start_id, lm.end_id, max_len=3, beam_size=K, trace=True)
    # a step's expansions extend the hypotheses kept live at the step before
    return next(now.expansions for before, now in zip(trace.steps, trace.steps[1:]) if len(before.live) == K)


QUESTIONS = {
    "exhaustive_count": Question(
        "Q1 sequences at step 3", _sequences_of_three,
        hint="each of the 3 positions can hold any of the V tokens.",
        mistakes={V * 3: "the choices multiply: V · V · V, not V + V + V.",
                  V ** 2: "that is step 2; at step 3 each of those is extended by every token again."}),
    "beam_candidates": Question(
        "Q2 candidates per step", _candidates_per_step,
        hint="every live hypothesis is extended by every token of the vocabulary before pruning.",
        mistakes={K: "that is how many are *kept*; how many are scored before pruning?",
                  V: "that is one hypothesis's extensions; all k live hypotheses are extended."}),
    "brevity_penalty": Question(
        "Q3 brevity penalty", lambda: sentence_bleu("the cat", "the cat is on the mat").brevity_penalty,
        hint="c = 2 hypothesis words, r = 6 reference words, and BP = exp(1 - r / c) when c <= r.",
        mistakes={2 / 6: "that is c / r; the penalty is exponential: exp(1 - r / c).",
                  1.0: "BP is 1 only when the hypothesis is at least as long as the reference."}),
    "model_or_search_errors": Question(
        "Q4 a wider beam, no better exact match", lambda: "b",
        choices={"a": "beam search has a bug: a wider beam must raise exact match",
                 "b": "the errors are model errors: the output the model scores highest is itself wrong, so "
                      "searching harder finds it more reliably without making it right",
                 "c": "k = 10 is still too small; exhaustive search would fix the errors"},
        hint="look at the table's last column: does the wider beam find outputs the model scores higher?",
        why="a wider beam is a better search for the model's most probable output (the mean log-probability "
            "rises), not a better model. When that most probable output is wrong, which is a model error, no "
            "search fixes it; only a better model (lecture 09's attention) does."),
}
