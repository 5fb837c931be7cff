"""Verdicts, in the clean grading process: captured arrays + reference -> per-question scores.

Nothing here imports or runs student code. Captured files are read with ``allow_pickle=False``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .cases import Case, read_outputs
from .results import CaseResult, PublicResult, QuestionResult


GRADER_ERROR = "grader error, not your fault"


def grader_errors(results) -> list[str]:
    """The messages of cases the grader could not capture (the submission's status becomes grader_error)."""
    return [c.message for q in results for c in q.cases if c.message.startswith(GRADER_ERROR)]


def score_question(question: str, max_score: float, cases: list[Case], captured: dict | None, ref) -> QuestionResult:
    """Score one question from its captured outputs (``None``: the capture never ran)."""
    result = QuestionResult(question, 0.0, max_score)
    for case in (c for c in cases if c.question == question):
        if captured is None:
            passed, message = False, "no output was captured: the notebook did not reach this question's hidden-test cell"
        elif "__file__" in captured:
            passed, message = False, str(captured["__file__"]["error"])
        elif case.id not in captured:
            passed, message = False, "no output was captured for this case"
        elif "grader_error" in captured[case.id]:  # the grader's own failure, not the student's
            passed = False
            message = f"{GRADER_ERROR}: {captured[case.id]['grader_error']} (instructor: fix the case or the capture)"
        elif "forbidden" in captured[case.id]:  # the graded function called what its question forbids
            passed, message = False, str(captured[case.id]["forbidden"])
        else:
            try:
                outcome = case.check(case, captured[case.id], ref)
                passed, message = outcome.passed, outcome.message
            except Exception as exc:  # malformed output (wrong types, shapes the check cannot handle)
                passed, message = False, f"your output could not be checked ({type(exc).__name__}: {exc})"
        result.cases.append(CaseResult(case.id, case.describe, case.points, bool(passed), message))
        result.score += case.points if passed else 0.0
    return result


def public_results(question: str, captured: dict | None) -> list[PublicResult]:
    records = (captured or {}).get("__public__", {})
    out = []
    for key in sorted(records, key=lambda k: int(k) if k.isdigit() else 0):
        try:
            record = json.loads(str(records[key]))
            out.append(PublicResult(question, str(record["name"]), bool(record["passed"]), str(record["message"])))
        except (ValueError, KeyError, TypeError):
            continue
    return out


def score_capture_dir(capture_dir: Path, questions: dict[str, float], cases: list[Case], ref):
    """Score every question from ``capture_dir/<question>.npz``; returns (question results, public results)."""
    results, public = [], []
    for question, max_score in questions.items():
        path = Path(capture_dir) / f"{question}.npz"
        captured = read_outputs(path) if path.exists() else None
        results.append(score_question(question, max_score, cases, captured, ref))
        public += public_results(question, captured)
    return results, public


def zero_results(questions: dict[str, float]) -> list[QuestionResult]:
    return [QuestionResult(q, 0.0, m) for q, m in questions.items()]


__all__ = ["score_question", "score_capture_dir", "zero_results", "public_results", "np"]
