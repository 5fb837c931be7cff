"""Grading results: one record per submission, a store keyed by student, and grades.csv.

The store holds one JSON file per student, written atomically as soon as that submission is graded,
so a killed batch resumes where it stopped without losing or doubling anything.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

STATUSES = ("ok", "timeout", "cpu_limit", "memory", "output_limit", "killed", "kernel_died", "engine_error",
            "bad_notebook", "grader_error")
RETRIED = ("grader_error",)  # the grader's failure, not the submission's: a resumed batch grades it again


@dataclass
class CaseResult:
    id: str
    describe: str
    points: float
    passed: bool
    message: str


@dataclass
class QuestionResult:
    question: str
    score: float
    max_score: float
    cases: list[CaseResult] = field(default_factory=list)


@dataclass
class PublicResult:
    question: str
    name: str
    passed: bool
    message: str


@dataclass
class SubmissionResult:
    student: str
    assignment: str
    backend: str
    status: str  # one of STATUSES; anything but "ok" scores 0 everywhere
    reason: str
    seconds: float
    questions: list[QuestionResult] = field(default_factory=list)
    public: list[PublicResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # repairs and warnings shown in the feedback
    isolation: str = ""  # what the sandbox could not enforce for this run ("" = everything)

    @property
    def score(self) -> float:
        return sum(q.score for q in self.questions)

    @property
    def max_score(self) -> float:
        return sum(q.max_score for q in self.questions)

    def scores(self) -> dict[str, float]:
        return {q.question: q.score for q in self.questions}

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> "SubmissionResult":
        data = json.loads(text)
        data["questions"] = [QuestionResult(**{**q, "cases": [CaseResult(**c) for c in q["cases"]]})
                             for q in data["questions"]]
        data["public"] = [PublicResult(**p) for p in data["public"]]
        return cls(**data)


def atomic_write_text(path: Path, text: str) -> None:
    """Write so that readers see the old file or the complete new one, never a torn one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class ResultsStore:
    """``<out>/results/<student>.json``, one per graded submission."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def path(self, student: str) -> Path:
        return self.directory / f"{student}.json"

    def has(self, student: str) -> bool:
        return self.path(student).exists()

    def status(self, student: str) -> str | None:
        """The stored status, or None if not graded (or the record is unreadable: grade it again)."""
        stored = self.read(student)
        return None if stored is None else stored.status

    def read(self, student: str) -> SubmissionResult | None:
        """The stored result, or None when there is none or it cannot be read (corrupt, or written by an
        older grader with other fields): such a record is graded again, never a crash."""
        try:
            return self.get(student)
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None

    def put(self, result: SubmissionResult) -> None:
        atomic_write_text(self.path(result.student), result.to_json())

    def get(self, student: str) -> SubmissionResult:
        return SubmissionResult.from_json(self.path(student).read_text(encoding="utf-8"))

    def all(self) -> list[SubmissionResult]:
        """Every readable record (an unreadable one is skipped here and graded again by the next run)."""
        return [r for r in (self.read(p.stem) for p in sorted(self.directory.glob("*.json"))) if r is not None]


CSV_COLUMNS = ("student", "assignment", "question", "score", "max_score", "status", "reason")


def grades_csv(results: list[SubmissionResult]) -> str:
    """One row per student and question, sorted by student."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for result in sorted(results, key=lambda r: r.student):
        for q in result.questions:
            writer.writerow([result.student, result.assignment, q.question, f"{q.score:g}", f"{q.max_score:g}",
                             result.status, result.reason])
    return buffer.getvalue()


def questions_of(results: list[SubmissionResult]) -> list[tuple[str, float]]:
    """(question, max points) in the assignment's order (from the first result that lists them)."""
    for r in results:
        if r.questions:
            return [(q.question, q.max_score) for q in r.questions]
    return []


def summary_csv(results: list[SubmissionResult]) -> str:
    """One row per student: status, total, maximum, then one column per question."""
    questions = questions_of(results)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "assignment", "status", "total", "max_score", *[q for q, _ in questions]])
    for r in sorted(results, key=lambda r: r.student):
        scores = r.scores()
        writer.writerow([r.student, r.assignment, r.status, f"{r.score:g}", f"{r.max_score:g}",
                         *[f"{scores.get(q, 0):g}" for q, _ in questions]])
    return buffer.getvalue()
