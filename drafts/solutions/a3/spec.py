"""Assignment 3, everything the instructor writes besides the notebook: questions and points, hidden
cases and their verdicts, the students' self-checks, the example mistakes and the forbidden calls.

Points: q1 4 (attention scores and masking), q2 3 (context and one decoder step), q3 2 (greedy), q4 5
(beam search), q5 3 (BLEU), q6 4 (training); total 21. Every verdict runs in the clean grading process:
q1-q2 against the reference's values and autograd gradients (``tests/test_a3_reference.py`` ties the
reference to ``utils.attention``), q3-q4 against the reference's searches and ``utils.decoding``'s
exhaustive search, q5 against ``sacrebleu``, q6 by loading the captured state dict into the reference's
model and translating dates that are in no split.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

import numpy as np
import torch

from autograder.checks import expect
from autograder.compare import problem, rel_error
from autograder.spec import Case, Config, Global, Mistake, Outcome
from autograder.verdicts import TOL, TOL32, build_args, check_values, error, memo, verdict

QUESTIONS = {"q1": 4.0, "q2": 3.0, "q3": 2.0, "q4": 5.0, "q5": 3.0, "q6": 4.0}
EXACT_MATCH_TARGET = 0.95  # on dates in no split (stated in the notebook)
UNSEEN_DATES = 500
LOSS_STEPS = 5

# Per question, the dotted names its graded functions must not call (enforced once the grader reads it).
# The searches' names are listed one by one: the toy model TinyLM, which q3-q4 drive, lives in utils.decoding.
_SEARCHES = ("utils.decoding.greedy_decode", "utils.decoding.beam_search", "utils.decoding.exhaustive_search")
FORBIDDEN = {
    "q1": ("utils.attention", "utils.seq2seq"),
    "q2": ("utils.attention", "utils.seq2seq"),
    "q3": _SEARCHES,
    "q4": _SEARCHES,
    "q5": ("utils.bleu", "sacrebleu"),
}


def _t(seed, *shape, scale=1.0, dtype=torch.float64, grad=False):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).to(dtype).requires_grad_(grad)


def _mask(lengths, S):
    return torch.arange(S)[None, :] < torch.tensor(lengths)[:, None]


# ---------------------------------------------------------------- verdicts

def check_attention(case: Case, outputs: dict, ref, tol: float = TOL, grads: bool = True) -> Outcome:
    """Weights and every gradient against the reference's (autograd through the reference functions).
    ``grads=False`` (float32): the weights only, since elementwise relative errors of float32 gradients
    near zero say nothing (the float64 cases check the gradients)."""
    if (bad := error(outputs)) is not None:
        return bad
    weights, expected_grads = memo(case, "expected", lambda: ref.attention_and_gradients(*build_args(case, ref)))
    names = ["d_query", "d_keys"] + [f"d_params[{i}]" for i in range(len(expected_grads) - 2)]
    problems = [problem("weights", outputs.get("out.0"), weights.double().numpy(), tol)]
    mask = case.args[3].numpy()
    got = outputs.get("out.0")
    if got is not None and np.shape(got) == mask.shape and np.any(np.asarray(got)[~mask] != 0):
        problems.append("padded positions must get weight exactly 0")
    if grads:
        problems += [problem(n, outputs.get(f"out.1.{i}"), g.double().numpy(), max(tol, 1e-5))
                     for i, (n, g) in enumerate(zip(names, expected_grads))]
    return verdict(problems)


def _hypotheses(outputs: dict) -> list | None:
    """The captured ranked list [(tokens, score), ...], or None when it is not one."""
    if "out" in outputs:  # an empty list, or a list of plain numbers
        return [] if np.asarray(outputs["out"]).size == 0 else None
    hyps, i = [], 0
    while f"out.{i}.1" in outputs:
        tokens = outputs.get(f"out.{i}.0")
        if tokens is None:
            return None
        hyps.append(([int(t) for t in np.asarray(tokens).reshape(-1)], float(outputs[f"out.{i}.1"])))
        i += 1
    return hyps if any(k.startswith("out.") for k in outputs) and i > 0 else None


def _show(hyps, n=3) -> str:
    return ", ".join(f"({h[0]}, {h[1]:.4f})" for h in hyps[:n]) + (" ..." if len(hyps) > n else "")


def check_greedy(case: Case, outputs: dict, ref) -> Outcome:
    if (bad := error(outputs)) is not None:
        return bad
    tokens, log_prob = memo(case, "expected", lambda: ref.greedy_decode(*build_args(case, ref)))
    got = outputs.get("out.0")
    got_tokens = None if got is None else [int(t) for t in np.asarray(got).reshape(-1)]
    if got_tokens != tokens:
        return Outcome(False, f"the tokens are {got_tokens}, expected {tokens} (stop at </s>, without it; "
                              f"ties: the smaller id)")
    return verdict([problem("log_prob", outputs.get("out.1"), log_prob, TOL)])


def check_beam(case: Case, outputs: dict, ref, exhaustive: bool = False) -> Outcome:
    """The ranked list against the reference's; with ``exhaustive``, the best also against exhaustive search."""
    if (bad := error(outputs)) is not None:
        return bad
    want = memo(case, "expected", lambda: ref.beam_search(*build_args(case, ref)))
    got = _hypotheses(outputs)
    if got is None:
        return Outcome(False, "beam_search must return a list of (tokens, score) pairs")
    if exhaustive:
        from utils.decoding import exhaustive_search

        model, max_len, _, *alpha = build_args(case, ref)
        best = memo(case, "exhaustive", lambda: exhaustive_search(model.step, model.initial_state(), model.start_id,
                                                                  model.end_id, max_len, *alpha)[0])
        if not got or got[0][0] != best.tokens or abs(got[0][1] - best.score) > 1e-6 * max(1, abs(best.score)):
            return Outcome(False, f"the best hypothesis is {_show(got, 1) or 'missing'}, but exhaustive search finds "
                                  f"({best.tokens}, {best.score:.4f}): nothing may be pruned when k >= V ** max_len")
    if len(got) != len(want):
        return Outcome(False, f"{len(got)} hypotheses returned, expected {len(want)}: {_show(got)} instead of "
                              f"{_show(want)}")
    for (gt, gs), (wt, ws) in zip(got, want):
        if gt != wt or abs(gs - ws) > 1e-6 * max(1.0, abs(ws)):
            return Outcome(False, f"the ranked hypotheses are {_show(got)}, expected {_show(want)}")
    return Outcome(True, "correct")


def check_bleu(case: Case, outputs: dict, ref) -> Outcome:
    """BLEU, precisions and brevity penalty against sacrebleu on the same tokens (no smoothing)."""
    if (bad := error(outputs)) is not None:
        return bad
    import sacrebleu

    hyps, refs = case.args

    def expected():
        result = sacrebleu.corpus_bleu([" ".join(h) for h in hyps], [[" ".join(r) for r in refs]],
                                       tokenize="none", smooth_method="none", force=True)
        return result.score, result.precisions, result.bp

    score, precisions, bp = memo(case, "sacrebleu", expected)
    return verdict([problem("bleu", outputs.get("out.0"), score, TOL),
                    problem("precisions", outputs.get("out.1"), np.array(precisions), TOL),
                    problem("brevity_penalty", outputs.get("out.2"), bp, TOL)])


def check_losses(case: Case, outputs: dict, ref) -> Outcome:
    if (bad := error(outputs)) is not None:
        return bad
    want = memo(case, "losses", lambda: ref.train_translator(*build_args(case, ref))[1])
    got = outputs.get("out.1")
    if got is None or np.shape(got) != (len(want),):
        return Outcome(False, f"losses must be a list of {len(want)} floats, one per step")
    if rel_error(got, want) > 1e-4:
        return Outcome(False, f"the first {len(want)} losses {np.round(got, 4).tolist()} are not those of the stated "
                              f"loop {np.round(want, 4).tolist()}: teacher forcing, cross-entropy against tgt_out, "
                              f"then zero_grad, backward, clipping and one Adam step")
    return Outcome(True, "correct")


def unseen_dates(ref, n: int = UNSEEN_DATES, seed: int = 12345):
    """``n`` dates of 1950-2049 in no split of the notebook's data, in its locales and formats."""
    from utils.seqdata import DATE_RANGE, render_dates

    seen = set(ref.DATA.train.keys) | set(ref.DATA.val.keys) | set(ref.DATA.test.keys)
    first, last = DATE_RANGE
    rng = np.random.default_rng(seed)
    pool = [first + dt.timedelta(days=int(i)) for i in rng.permutation((last - first).days + 1)]
    dates = [d for d in pool if d not in seen][:n]
    return render_dates(dates, rng, ref.LOCALES, ref.FORMATS)


def check_trained(case: Case, outputs: dict, ref) -> Outcome:
    """Load the captured state dict into the reference's model; exact match on dates in no split."""
    if (bad := error(outputs)) is not None:
        return bad
    state = {k.removeprefix("out."): torch.tensor(v) for k, v in outputs.items() if k.startswith("out.")}
    model = ref.build_model(ref.DATA)
    try:
        model.load_state_dict(state)
    except (RuntimeError, KeyError) as exc:
        return Outcome(False, f"model is not build_model's Seq2Seq with its parameters ({str(exc)[:200]})")
    model.float().eval()
    pairs = memo(case, "dates", lambda: unseen_dates(ref))
    score = ref.exact_match(model, pairs.sources, pairs.targets)
    target = case.extra["target"]
    if score >= target:
        return Outcome(True, f"exact match {score:.1%} >= {target:.0%} on {len(pairs)} dates it never saw")
    return Outcome(False, f"exact match {score:.1%} on {len(pairs)} dates it never saw, below {target:.0%}")


# ---------------------------------------------------------------- hidden cases

TINY = {"vocab_size": 4, "hidden_size": 6, "end_id": 1, "temperature": 0.5}


def _bigram(rows, end_id=0):
    return Config("BigramLM", {"probs": rows, "end_id": end_id})


# exact ties: from <s>, tokens 1 and 2 are equally likely, and so are their continuations
TIES = [[0.2, 0.3, 0.3, 0.2], [0.4, 0.2, 0.2, 0.2], [0.4, 0.2, 0.2, 0.2], [0.25, 0.25, 0.25, 0.25],
        [0.1, 0.3, 0.3, 0.3]]  # from <s>: 1, 2, 3 tie; after 1 or 2: 1, 2, 3 tie again
# the best output is "2 </s>" (0.36 * 0.85 = 0.31); token 1 is likelier first (0.6) but every continuation is poor
EARLY = [[0.25, 0.25, 0.25, 0.25], [0.02, 0.38, 0.3, 0.3], [0.85, 0.05, 0.05, 0.05], [0.3, 0.3, 0.2, 0.2],
         [0.04, 0.55, 0.36, 0.05]]
# greedy: </s> comes after two tokens; never within max_len; a tie at the first step
GREEDY_EARLY = [[0.25, 0.25, 0.25, 0.25], [0.2, 0.1, 0.6, 0.1], [0.7, 0.1, 0.1, 0.1], [0.1, 0.3, 0.3, 0.3],
                [0.1, 0.5, 0.2, 0.2]]
GREEDY_NEVER = [[0.25, 0.25, 0.25, 0.25], [0.01, 0.09, 0.8, 0.1], [0.01, 0.8, 0.09, 0.1],
                [0.01, 0.39, 0.3, 0.3], [0.01, 0.4, 0.3, 0.29]]
GREEDY_TIE = [[0.25, 0.25, 0.25, 0.25], [0.6, 0.2, 0.1, 0.1], [0.1, 0.1, 0.4, 0.4], [0.1, 0.1, 0.4, 0.4],
              [0.1, 0.2, 0.35, 0.35]]

BLEU_CORPORA = {
    "repeats": ([["the", "the", "the", "cat", "the", "mat"], ["a", "cat", "on", "a", "mat", "a", "cat"]],
                [["the", "cat", "is", "on", "the", "mat"], ["there", "is", "a", "cat", "on", "a", "mat"]]),
    "short": ([["2", "0", "2", "3", "-", "0", "3"], ["1", "9", "9", "9", "-", "1", "2", "-", "2"]],
              [["2", "0", "2", "3", "-", "0", "3", "-", "0", "7"], ["1", "9", "9", "9", "-", "1", "2", "-", "2", "4"]]),
    "tiny_sentences": ([["a", "b"], ["c", "d", "e", "f", "g"], ["x"]],
                       [["a", "b", "c"], ["c", "d", "e", "f", "h"], ["x", "y"]]),
    "no_4gram": ([["a", "b", "c", "x", "d"], ["e", "f", "g", "y"]], [["a", "b", "c", "d"], ["e", "f", "g", "h"]]),
}


def _random_corpus(seed, sentences, vocab=6):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(vocab)]
    refs = [list(rng.choice(words, size=rng.integers(6, 14))) for _ in range(sentences)]
    hyps = [[w if rng.random() < 0.7 else str(rng.choice(words)) for w in r][: len(r) - int(rng.integers(0, 3))]
            for r in refs]
    return [[str(w) for w in h] for h in hyps], [[str(w) for w in r] for r in refs]


def hidden_cases(ref) -> list[Case]:
    cases: list[Case] = []

    # q1: the three scores on padded batches, weights and gradients (float64); float32; one position.
    Q, K, L = _t(101, 3, 4, grad=True), _t(102, 3, 5, 4, grad=True), [5, 3, 1]
    cases.append(Case("q1.dot_padded", "q1", 1.0, "dot scores, N=3, S=5, H=4, lengths 5, 3, 1: weights and gradients",
                      "attention_and_gradients", ["dot", Q, K, _mask(L, 5), [], _t(103, 3, 5)], check_attention))
    cases.append(Case("q1.general_padded", "q1", 1.0,
                      "general scores, H_q=3, H_k=4, S=6, lengths 6, 2: weights and gradients",
                      "attention_and_gradients", ["general", _t(111, 2, 3, grad=True), _t(112, 2, 6, 4, grad=True),
                                                  _mask([6, 2], 6), [_t(113, 3, 4, grad=True)], _t(114, 2, 6)],
                      check_attention))
    cases.append(Case("q1.additive_padded", "q1", 1.0,
                      "additive scores, H_q=3, H_k=4, A=5, S=4, lengths 4, 4, 2, 3: weights and gradients",
                      "attention_and_gradients",
                      ["additive", _t(121, 4, 3, grad=True), _t(122, 4, 4, 4, grad=True), _mask([4, 4, 2, 3], 4),
                       [_t(123, 5, 3, grad=True), _t(124, 5, 4, grad=True), _t(125, 5, grad=True)], _t(126, 4, 4)],
                      check_attention))
    cases.append(Case("q1.float32_large", "q1", 0.5, "dot scores of size about 50 in float32, padded: the weights",
                      "attention_and_gradients",
                      ["dot", _t(131, 2, 8, scale=3.0, dtype=torch.float32, grad=True),
                       _t(132, 2, 7, 8, scale=3.0, dtype=torch.float32, grad=True), _mask([7, 4], 7), [],
                       _t(133, 2, 7, dtype=torch.float32)], partial(check_attention, tol=TOL32, grads=False)))
    cases.append(Case("q1.one_position", "q1", 0.5, "additive scores with a single source position (S=1)",
                      "attention_and_gradients",
                      ["additive", _t(141, 2, 3, grad=True), _t(142, 2, 1, 3, grad=True), _mask([1, 1], 1),
                       [_t(143, 4, 3, grad=True), _t(144, 4, 3, grad=True), _t(145, 4, grad=True)], _t(146, 2, 1)],
                      check_attention))

    # q2: the context alone; one decoder step with the reference's scores and softmax.
    cases.append(Case("q2.context", "q2", 1.0, "attention_context for N=3, S=4, H=5 with padded weights",
                      "attention_context",
                      [torch.softmax(_t(201, 3, 4), -1) * _mask([4, 2, 3], 4), _t(202, 3, 4, 5)],
                      partial(check_values, names=("context",))))

    def step_args(seed, N, S, E, H, V, lengths, dtype=torch.float64):
        s = seed
        params = {"embedding": _t(s, V, E, dtype=dtype), "W_ih": _t(s + 1, H, E, scale=0.5, dtype=dtype),
                  "W_hh": _t(s + 2, H, H, scale=0.5, dtype=dtype), "b_ih": _t(s + 3, H, scale=0.1, dtype=dtype),
                  "b_hh": _t(s + 4, H, scale=0.1, dtype=dtype), "W_c": _t(s + 5, H, 2 * H, scale=0.5, dtype=dtype),
                  "b_c": _t(s + 6, H, scale=0.1, dtype=dtype), "W_out": _t(s + 7, V, H, dtype=dtype),
                  "b_out": _t(s + 8, V, scale=0.1, dtype=dtype)}
        token = torch.randint(0, V, (N,), generator=torch.Generator().manual_seed(s + 9))
        return [token, _t(s + 10, N, H, dtype=dtype), _t(s + 11, N, S, H, dtype=dtype), _mask(lengths, S), params]

    patch = ("dot_scores", "masked_softmax")
    cases.append(Case("q2.step", "q2", 1.0, "decoder_step for N=3, S=5, E=4, H=6, V=7, padded",
                      "decoder_step", step_args(210, 3, 5, 4, 6, 7, [5, 3, 2]),
                      partial(check_values, names=("logits", "s", "weights")), patch=patch))
    cases.append(Case("q2.step_float32", "q2", 1.0, "decoder_step for N=2, S=3, H=4 in float32",
                      "decoder_step", step_args(230, 2, 3, 3, 4, 5, [3, 1], dtype=torch.float32),
                      partial(check_values, names=("logits", "s", "weights"), tol=TOL32), patch=patch))

    # q3: greedy on toy models.
    cases.append(Case("q3.tiny", "q3", 0.5, "a random TinyLM (V=5), max_len 8", "greedy_decode",
                      [Config("TinyLM", {**TINY, "vocab_size": 5, "seed": 3}), 8], check_greedy))
    cases.append(Case("q3.ends_early", "q3", 0.5, "a model where </s> comes after two tokens, max_len 10",
                      "greedy_decode", [_bigram(GREEDY_EARLY), 10], check_greedy))
    cases.append(Case("q3.never_ends", "q3", 0.5, "a model where </s> never wins within max_len 6",
                      "greedy_decode", [_bigram(GREEDY_NEVER), 6], check_greedy))
    cases.append(Case("q3.ties", "q3", 0.5, "exact ties between two tokens", "greedy_decode",
                      [_bigram(GREEDY_TIE), 5], check_greedy))

    # q4: beam search.
    cases.append(Case("q4.k1_greedy", "q4", 1.0, "beam size 1 on a TinyLM (V=5), max_len 7 (greedy search)",
                      "beam_search", [Config("TinyLM", {**TINY, "vocab_size": 5, "seed": 4}), 7, 1, 0.0], check_beam))
    cases.append(Case("q4.exhaustive", "q4", 1.0, "k = V ** max_len = 81 on a TinyLM (V=3), max_len 4",
                      "beam_search", [Config("TinyLM", {**TINY, "vocab_size": 3, "seed": 5, "end_id": 0}), 4, 81, 0.0],
                      partial(check_beam, exhaustive=True)))
    cases.append(Case("q4.k_is_V_two_tokens", "q4", 0.5, "k = V = 4 with max_len 2 on a TinyLM",
                      "beam_search", [Config("TinyLM", {**TINY, "seed": 6}), 2, 4, 0.0],
                      partial(check_beam, exhaustive=True)))
    cases.append(Case("q4.ties", "q4", 1.0, "exact ties between hypotheses, k = 3", "beam_search",
                      [_bigram(TIES), 4, 3, 0.0], check_beam))
    cases.append(Case("q4.best_ends_early", "q4", 1.0, "the best output ends after one token, k = 2",
                      "beam_search", [_bigram(EARLY), 5, 2, 0.0], check_beam))
    cases.append(Case("q4.alpha", "q4", 0.5, "length normalisation alpha = 0.7, k = 3, on a TinyLM (V=6)",
                      "beam_search", [Config("TinyLM", {**TINY, "vocab_size": 6, "seed": 7, "temperature": 1.0}),
                                      8, 3, 0.7], check_beam))

    # q5: BLEU against sacrebleu.
    points = {"repeats": 0.5, "short": 0.5, "tiny_sentences": 0.5, "no_4gram": 0.5}
    for name, (hyps, refs) in BLEU_CORPORA.items():
        cases.append(Case(f"q5.{name}", "q5", points[name], f"a hidden corpus ({name.replace('_', ' ')})",
                          "corpus_bleu", [hyps, refs], check_bleu))
    cases.append(Case("q5.random", "q5", 1.0, "a random corpus of 40 sentences", "corpus_bleu",
                      list(_random_corpus(501, 40)), check_bleu))

    # q6: the loop's first steps; the trained model on dates it never saw.
    cases.append(Case("q6.first_losses", "q6", 1.0, f"the losses of the first {LOSS_STEPS} steps",
                      "train_translator", [Global("DATA"), Config("TrainConfig", {"steps": LOSS_STEPS})],
                      check_losses))
    cases.append(Case("q6.trained", "q6", 3.0, f"the trained model's exact match on {UNSEEN_DATES} dates it never saw",
                      "model", [], check_trained, call="global", extra={"target": EXACT_MATCH_TARGET}))
    return cases


# ---------------------------------------------------------------- self-checks (public, student side)
# Frozen torch.linspace inputs. Each check isolates one term where it can; a question's checks stop at the
# first failure, so they are ordered from the first thing to fix to the last.

Q1 = torch.linspace(-1.0, 1.0, 6, dtype=torch.float64).reshape(2, 3)          # (N=2, H=3)
K1 = torch.linspace(-0.8, 1.2, 24, dtype=torch.float64).reshape(2, 4, 3)      # (N, S=4, H)
W1 = torch.linspace(-0.5, 0.7, 9, dtype=torch.float64).reshape(3, 3)          # (H_q, H_k)
WQ1 = torch.linspace(-0.6, 0.6, 15, dtype=torch.float64).reshape(5, 3)        # (A=5, H_q)
WK1 = torch.linspace(0.9, -0.9, 15, dtype=torch.float64).reshape(5, 3)        # (A, H_k)
V1 = torch.linspace(-1.5, 1.0, 5, dtype=torch.float64)                        # (A,)
SCORES1 = torch.linspace(-2.0, 1.5, 8, dtype=torch.float64).reshape(2, 4)     # (N, S)
MASK1 = torch.tensor([[True, True, True, False], [True, False, False, False]])
ALL1 = torch.ones(2, 4, dtype=torch.bool)


def scores_dot(dot_scores):
    expect(dot_scores(Q1, K1), "dot_scores is wrong: scores[n, i] = query[n] . keys[n, i], shape (N, S)")


def scores_general(general_scores):
    expect(general_scores(Q1, K1, W1), "general_scores is wrong: scores[n, i] = query[n] @ W @ keys[n, i]")


def scores_additive(additive_scores):
    expect(additive_scores(Q1, K1, WQ1, WK1, V1), "additive_scores is wrong: v . tanh(query @ W_q.T + "
                                                  "keys[:, i] @ W_k.T), with the tanh around the sum")


def softmax_over_positions(masked_softmax):
    expect(masked_softmax(SCORES1, ALL1), "with nothing masked, the weights are wrong: the softmax runs over the "
                                          "source positions, the last axis (dim=-1)")


def padded_positions_zero(masked_softmax):
    weights = masked_softmax(SCORES1, MASK1)
    assert bool((weights[~MASK1] == 0).all()), ("padded positions must get weight exactly 0: fill their scores with "
                                                "-inf before the softmax")
    assert torch.allclose(weights.sum(-1), torch.ones(2, dtype=weights.dtype)), (
        "each row must sum to 1 over its real positions: mask the scores before the softmax, not after")
    expect(weights, "the weights of the real positions are wrong")


H2 = 3
TOKEN2 = torch.tensor([2, 0])
PREV2 = torch.linspace(-0.5, 0.5, 6, dtype=torch.float64).reshape(2, H2)       # (N=2, H=3)
MEM2 = torch.linspace(-1.0, 1.0, 24, dtype=torch.float64).reshape(2, 4, H2)    # (N, S=4, H)
MASK2 = torch.tensor([[True, True, True, True], [True, True, False, False]])
WEIGHTS2 = torch.tensor([[0.1, 0.2, 0.3, 0.4], [0.5, 0.5, 0.0, 0.0]], dtype=torch.float64)
PARAMS2 = {"embedding": torch.linspace(-1, 1, 8, dtype=torch.float64).reshape(4, 2),   # (V=4, E=2)
           "W_ih": torch.linspace(-0.5, 0.5, 6, dtype=torch.float64).reshape(3, 2),
           "W_hh": torch.linspace(0.4, -0.4, 9, dtype=torch.float64).reshape(3, 3),
           "b_ih": torch.zeros(3, dtype=torch.float64), "b_hh": torch.linspace(-0.1, 0.1, 3, dtype=torch.float64),
           "W_c": torch.linspace(-0.6, 0.8, 18, dtype=torch.float64).reshape(3, 6),
           "b_c": torch.linspace(0.1, -0.1, 3, dtype=torch.float64),
           "W_out": torch.linspace(-1, 1, 12, dtype=torch.float64).reshape(4, 3),
           "b_out": torch.zeros(4, dtype=torch.float64)}
EYE2 = torch.eye(3, dtype=torch.float64)
ZERO2 = torch.zeros(3, 3, dtype=torch.float64)
ONLY_CONTEXT2 = {**PARAMS2, "W_c": torch.cat([EYE2, ZERO2], 1)}   # [I, 0]: only a_t reaches the output
ONLY_STATE2 = {**PARAMS2, "W_c": torch.cat([ZERO2, EYE2], 1)}     # [0, I]: only s_t


def context_weighted_sum(attention_context):
    expect(attention_context(WEIGHTS2, MEM2), "attention_context is wrong: context[n] = sum_i weights[n, i] * "
                                              "values[n, i], shape (N, H)")


def step_state_and_weights(decoder_step):
    logits, s, weights = decoder_step(TOKEN2, PREV2, MEM2, MASK2, PARAMS2)
    expect(s, "the state s is wrong: s = rnn_cell(params['embedding'][token], prev_s, params)")
    expect(weights, "the weights are wrong: masked_softmax(dot_scores(s, memory), mask), with the new state s")


def step_state_part(decoder_step):
    logits, _, _ = decoder_step(TOKEN2, PREV2, MEM2, MASK2, ONLY_STATE2)
    expect(logits, "with W_c = [0, I] only s_t should reach the output, and the logits are wrong: concatenate "
                   "[a_t; s_t], the context first, then the state")


def step_context_part(decoder_step):
    logits, _, _ = decoder_step(TOKEN2, PREV2, MEM2, MASK2, ONLY_CONTEXT2)
    expect(logits, "with W_c = [I, 0] only the context a_t reaches the output, and the logits are wrong: a_t is "
                   "attention_context(weights, memory), the sum weighted by the softmax weights (not the raw scores)")


def step_all(decoder_step):
    logits, _, _ = decoder_step(TOKEN2, PREV2, MEM2, MASK2, PARAMS2)
    expect(logits, "each part is right alone but the logits are wrong: tanh(W_c [a_t; s_t] + b_c), then W_out")


# Greedy and beam search on BigramLM tables (rows: the last token, row V is <s>; end_id 0).
STOPS3 = [[0.25, 0.25, 0.25, 0.25], [0.1, 0.2, 0.6, 0.1], [0.6, 0.2, 0.1, 0.1], [0.2, 0.2, 0.3, 0.3],
          [0.1, 0.6, 0.2, 0.1]]   # greedy: 1, 2, then </s>
NEVER3 = [[0.25, 0.25, 0.25, 0.25], [0.05, 0.15, 0.7, 0.1], [0.05, 0.7, 0.15, 0.1], [0.05, 0.45, 0.3, 0.2],
          [0.05, 0.5, 0.25, 0.2]]  # greedy never produces </s>


def greedy_stops_at_end(greedy_decode, BigramLM):
    tokens, _ = greedy_decode(BigramLM(STOPS3), 10)
    expect(torch.tensor(tokens), "greedy_decode must stop when it produces </s> (end_id), and leave </s> out "
                                 "of the tokens")


def greedy_log_prob(greedy_decode, BigramLM):
    _, log_prob = greedy_decode(BigramLM(STOPS3), 10)
    expect(log_prob, "log_prob must be the sum of the chosen tokens' log-probabilities, </s> included")


def greedy_max_len(greedy_decode, BigramLM):
    tokens, _ = greedy_decode(BigramLM(NEVER3), 5)
    assert len(tokens) == 5, f"when </s> never wins, greedy_decode must produce max_len = 5 tokens, got {len(tokens)}"


SUMS4 = [[0.25, 0.25, 0.25, 0.25], [0.02, 0.1, 0.5, 0.38], [0.02, 0.6, 0.1, 0.28], [0.02, 0.3, 0.3, 0.38],
         [0.02, 0.5, 0.3, 0.18]]   # </s> is never among the 2 best: only sums of log-probabilities matter
EARLY4 = [[0.25, 0.25, 0.25, 0.25], [0.05, 0.35, 0.3, 0.3], [0.9, 0.04, 0.03, 0.03], [0.3, 0.3, 0.2, 0.2],
          [0.05, 0.6, 0.3, 0.05]]   # best: "2 </s>" (0.27), though 1 is the likelier first token


def beam_scores_are_log_probs(beam_search, BigramLM):
    hypotheses = beam_search(BigramLM(SUMS4), 3, 2)
    tokens = [list(t) for t, _ in hypotheses]
    scores = torch.tensor([float(x) for _, x in hypotheses])
    expect(scores, "the scores are wrong: a hypothesis's score is the sum of its tokens' log-probabilities "
                   "(add log-probs, do not multiply)")


def beam_size_one_is_greedy(beam_search, TinyLM):
    hypotheses = beam_search(TinyLM(seed=2), 6, 1)
    tokens = [list(t) for t, _ in hypotheses]
    scores = torch.tensor([float(x) for _, x in hypotheses])
    expect(scores, "with beam_size 1, beam search is greedy search: one hypothesis, its log-probability")


def beam_keeps_finished(beam_search, BigramLM):
    hypotheses = beam_search(BigramLM(EARLY4), 5, 2)
    tokens = [list(t) for t, _ in hypotheses]
    scores = torch.tensor([float(x) for _, x in hypotheses])
    assert tokens and tokens[0] == [2], (f"the best output is [2] (2 then </s>, probability 0.27), got "
                                         f"{tokens[0] if tokens else 'nothing'}: a hypothesis that ends with </s> is "
                                         f"set aside as finished and kept")
    expect(scores, "the ranked scores are wrong (finished hypotheses first kept aside, then ranked by score)")


def beam_length_normalised(beam_search, TinyLM):
    hypotheses = beam_search(TinyLM(seed=3, temperature=1.0), 6, 3, 0.7)
    tokens = [list(t) for t, _ in hypotheses]
    scores = torch.tensor([float(x) for _, x in hypotheses])
    expect(scores, "with alpha = 0.7 the scores are wrong: divide the log-probability by n ** alpha "
                   "(n tokens, </s> included)")


HYP5 = [["the", "the", "the", "the"]]
REF5 = [["the", "cat", "on", "the", "mat"]]
LONG5 = [["a", "b", "c", "d", "e", "f"]]
SHORT_HYP5 = [["a", "b", "c", "d"]]
CORPUS_HYP5 = [["a", "b", "c", "d", "e"], ["x", "y", "z", "w"]]
CORPUS_REF5 = [["a", "b", "c", "d", "e"], ["x", "y", "q", "w", "v"]]


def bleu_clipped(corpus_bleu):
    _, precisions, _ = corpus_bleu(HYP5, REF5)
    expect(precisions[0], "the unigram precision of 'the the the the' against 'the cat on the mat' must be 50 %: "
                          "clip, a hypothesis n-gram counts at most as often as it occurs in the reference")


def bleu_brevity(corpus_bleu):
    _, precisions, bp = corpus_bleu(SHORT_HYP5, LONG5)
    expect(bp, "the brevity penalty of a 4-token hypothesis for a 6-token reference is exp(1 - r / c) = "
               "exp(1 - 6/4)")


def bleu_corpus_level(corpus_bleu):
    bleu, precisions, bp = corpus_bleu(CORPUS_HYP5, CORPUS_REF5)
    expect(precisions, "the precisions are wrong: sum the clipped matches and the n-gram counts over the whole "
                       "corpus, then divide")
    expect(bleu, "BLEU is wrong: 100 * BP * exp(mean of log p_n) over the corpus (not the mean of sentence BLEUs)")


def bleu_zero_precision(corpus_bleu):
    bleu, _, _ = corpus_bleu([["a", "b", "x", "c"]], [["a", "b", "c", "d"]])
    assert bleu == 0, f"with no matching 4-gram, BLEU (unsmoothed) is 0, got {bleu}"


def trained_to_target(model, losses, exact_match, DATA, DEVICE):
    logits, _ = model(DATA.batch("val", [0, 1]).to(DEVICE))
    assert logits.shape[-1] == len(DATA.tgt_vocab), "model(batch) must give logits over the target vocabulary"
    expect(torch.tensor(losses[:5]), "the first losses differ from the reference's: teacher forcing, the "
                                     "cross-entropy of model(batch)'s logits against batch.tgt_out (the targets "
                                     "shifted left), then zero_grad, backward, clipping and one Adam step", rtol=1e-3)
    score = exact_match(model, DATA.val.sources, DATA.val.targets)
    assert score >= EXACT_MATCH_TARGET, (f"exact match on the validation split is {score:.1%}, below "
                                         f"{EXACT_MATCH_TARGET:.0%}")


PUBLIC = {
    "q1": [scores_dot, scores_general, scores_additive, softmax_over_positions, padded_positions_zero],
    "q2": [context_weighted_sum, step_state_and_weights, step_state_part, step_context_part, step_all],
    "q3": [greedy_stops_at_end, greedy_log_prob, greedy_max_len],
    "q4": [beam_scores_are_log_probs, beam_keeps_finished, beam_size_one_is_greedy, beam_length_normalised],
    "q5": [bleu_clipped, bleu_brevity, bleu_corpus_level, bleu_zero_precision],
    "q6": [trained_to_target],
}

MISTAKES = {
    "q1_mask_ignored": Mistake("q1", '    scores = scores.masked_fill(~mask, float("-inf"))\n', "",
                               "masked_softmax leaves padded positions in", "-inf before the softmax"),
    "q1_mask_after_softmax": Mistake(
        "q1", 'scores = scores.masked_fill(~mask, float("-inf"))\n    weights = torch.softmax(scores, dim=-1)',
        "weights = torch.softmax(scores, dim=-1) * mask", "the mask zeroes the weights after the softmax",
        "not after"),
    "q1_softmax_over_batch": Mistake("q1", "weights = torch.softmax(scores, dim=-1)",
                                     "weights = torch.softmax(scores, dim=0)", "softmax over the batch axis",
                                     "the last axis"),
    "q1_additive_without_tanh": Mistake("q1", "hidden = torch.tanh((query @ W_q.T)[:, None, :] + keys @ W_k.T)",
                                        "hidden = (query @ W_q.T)[:, None, :] + keys @ W_k.T",
                                        "additive attention without the tanh", "with the tanh"),
    "q2_state_before_context": Mistake("q2", "torch.cat([context, s], dim=-1)", "torch.cat([s, context], dim=-1)",
                                       "[s_t; a_t] instead of [a_t; s_t]", "the context first"),
    "q2_context_from_scores": Mistake("q2", "context = attention_context(weights, memory)",
                                      "context = attention_context(scores, memory)",
                                      "the context weighted by the raw scores", "not the raw scores"),
    "q3_greedy_does_not_stop": Mistake("q3", "        if best == model.end_id:\n            break\n", "",
                                       "greedy search runs on past </s>", "must stop"),
    "q4_multiplies_log_probs": Mistake("q4", "live_log_prob[:, None] + log_probs.double()",
                                       "live_log_prob[:, None] * log_probs.double()",
                                       "beam search multiplies log-probabilities", "add log-probs"),
    "q4_drops_finished": Mistake("q4", "finished.append((live[b][0], lp, len(live[b][0]) + 1))", "continue",
                                 "finished hypotheses are dropped", "set aside as finished"),
    "q4_length_penalty_multiplies": Mistake("q4", "lp / n ** alpha", "lp * n ** alpha",
                                            "length normalisation multiplies by n ** alpha", "divide"),
    "q5_unclipped_counts": Mistake("q5", "sum(min(count, ref_ngrams[g]) for g, count in hyp_ngrams.items())",
                                   "sum(count for g, count in hyp_ngrams.items() if g in ref_ngrams)",
                                   "n-gram matches are not clipped", "clip"),
    "q5_no_brevity_penalty": Mistake(
        "q5", "brevity_penalty = 1.0 if hyp_len >= ref_len else math.exp(1 - ref_len / hyp_len) if hyp_len else 0.0",
        "brevity_penalty = 1.0", "no brevity penalty", "brevity penalty"),
    "q5_brevity_ratio_inverted": Mistake("q5", "math.exp(1 - ref_len / hyp_len)", "math.exp(1 - hyp_len / ref_len)",
                                         "the brevity penalty uses c / r instead of r / c", "exp(1 - r / c)"),
    "q6_targets_not_shifted": Mistake("q6", "batch.tgt_out.reshape(-1),", "batch.tgt_in.reshape(-1),",
                                      "the loss compares the logits with tgt_in (not shifted)", "shifted left"),
}
