"""Per-student feedback pages: scores, what each hidden case exercised and whether it passed (in words),
and the self-check results. Hidden tests' source is never shown: the page is built from verdict
messages written by the hidden cases of ``solutions/<aN>/spec.py``, not from the executed notebook (whose tracebacks and
cells would reveal the hidden tests, nbgrader issue #917)."""

from __future__ import annotations

from html import escape
from pathlib import Path

from .results import SubmissionResult, atomic_write_text

STYLE = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;line-height:1.4}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
.pass{color:#176a2c}.fail{color:#a4161a}pre{white-space:pre-wrap;margin:0}"""


def render(result: SubmissionResult) -> str:
    rows = []
    for q in result.questions:
        rows.append(f"<h2>{escape(q.question)}: {q.score:g} / {q.max_score:g}</h2>")
        if q.cases:
            rows.append("<table><tr><th>hidden test</th><th>points</th><th>result</th></tr>")
            for c in q.cases:
                cls, word = ("pass", "passed") if c.passed else ("fail", "failed")
                rows.append(f"<tr><td>{escape(c.describe)}</td><td>{c.points:g}</td>"
                            f"<td class='{cls}'>{word}: {escape(c.message)}</td></tr>")
            rows.append("</table>")
        public = [p for p in result.public if p.question == q.question]
        if public:
            rows.append("<p>Self-checks (public tests, the same as <code>grader.check</code>):</p><table>")
            for p in public:
                cls = "pass" if p.passed else "fail"
                rows.append(f"<tr><td>{escape(p.name)}</td><td class='{cls}'><pre>{escape(p.message)}</pre></td></tr>")
            rows.append("</table>")
    status = "" if result.status == "ok" else (
        f"<p class='fail'><b>Your notebook could not be graded ({escape(result.status)}):</b> "
        f"{escape(result.reason)}</p>")
    if result.notes:
        status += "<p>Notes from the grader:</p><ul>" + "".join(f"<li>{escape(n)}</li>" for n in result.notes) + "</ul>"
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(result.assignment)} feedback: "
            f"{escape(result.student)}</title><style>{STYLE}</style></head><body>"
            f"<h1>{escape(result.assignment)}: {result.score:g} / {result.max_score:g}</h1>"
            f"<p>Student: {escape(result.student)}. Hidden tests are described, not shown.</p>{status}"
            + "\n".join(rows) + "</body></html>\n")


def write_feedback(result: SubmissionResult, path: Path) -> None:
    atomic_write_text(Path(path), render(result))
