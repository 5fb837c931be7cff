"""What the instructor sees after grading: one row per student, and a class report with figures.

* :func:`summary_csv`: ``grades_summary.csv``, one row per student (status, total, one column per
  question), ready for an LMS import; ``grades.csv`` stays the long form (one row per question).
* :func:`class_report`: ``report.html``, a self-contained page (figures inlined as PNG): the total and
  each question's score distribution, the most common verdict messages per question with how many
  submissions got each, the statuses (timeouts, memory, bad notebooks, ...) and the grading time per
  submission. Everything comes from the stored results (``<out>/results/*.json``): the messages are the
  ones students read in their feedback, so the page shows no hidden-test source.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import re
import statistics
from collections import Counter, defaultdict
from pathlib import Path

from .results import ResultsStore, SubmissionResult, questions_of, summary_csv  # noqa: F401 (re-exported)

TOP_MESSAGES = 5  # verdict messages listed per question
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w])")


def load_results(out: Path) -> list[SubmissionResult]:
    """The results a grading run stored in ``out/results`` (clear error if there are none)."""
    folder = Path(out) / "results"
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} does not exist: give the --out folder of a grading run "
                                "(python -m autograder grade ... --out DIR)")
    results = ResultsStore(folder).all()
    if not results:
        raise FileNotFoundError(f"{folder} holds no graded submissions yet")
    assignments = sorted({r.assignment for r in results})
    if len(assignments) > 1:
        raise ValueError(f"{folder} mixes assignments {assignments}: grade each into its own --out folder")
    return results


def message_key(message: str) -> str:
    """A verdict message with its numbers blanked, so "max error 0.31" and "max error 0.27" count as one."""
    return _NUMBER.sub("#", message.strip())


def common_messages(results: list[SubmissionResult]) -> dict[str, list[tuple[int, str]]]:
    """Per question: (number of submissions, message) of the failed checks, most common first.
    A submission counts once per message even if several hidden cases gave it."""
    counts: dict[str, Counter] = defaultdict(Counter)
    example: dict[tuple[str, str], str] = {}
    for r in results:
        if r.status != "ok":
            continue
        for q in r.questions:
            seen = set()
            for case in q.cases:
                if case.passed or not case.message:
                    continue
                key = message_key(case.message)
                if key not in seen:
                    seen.add(key)
                    counts[q.question][key] += 1
                    example.setdefault((q.question, key), case.message)
    return {question: [(n, example[(question, key)]) for key, n in c.most_common()] for question, c in counts.items()}


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def _figures(results: list[SubmissionResult]) -> dict[str, str]:
    """name -> base64 PNG: 'total', one per question, 'seconds'."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures = {}
    questions = questions_of(results)
    totals = [r.score for r in results]
    top = max((r.max_score for r in results), default=0)
    fig, ax = plt.subplots(figsize=(6, 2.6))
    ax.hist(totals, bins=max(1, int(top) + 1), range=(-0.5, top + 0.5), color="#4c72b0", edgecolor="white")
    ax.set(xlabel=f"total score (of {top:g})", ylabel="submissions", title="Total score")
    figures["total"] = _png(fig)
    for question, max_points in questions:
        scores = Counter(r.scores().get(question, 0.0) for r in results)
        fig, ax = plt.subplots(figsize=(3.2, 2.2))
        values = sorted(scores)
        ax.bar([f"{v:g}" for v in values], [scores[v] for v in values], color="#55a868")
        ax.set(xlabel=f"points (of {max_points:g})", ylabel="submissions", title=question)
        figures[question] = _png(fig)
    fig, ax = plt.subplots(figsize=(6, 2.4))
    ax.hist([r.seconds for r in results], bins=20, color="#8172b2", edgecolor="white")
    ax.set(xlabel="seconds to grade one submission", ylabel="submissions", title="Grading time")
    figures["seconds"] = _png(fig)
    return figures


def class_report(results: list[SubmissionResult], path: Path) -> Path:
    """Write the class report (one self-contained HTML page) to ``path``."""
    results = sorted(results, key=lambda r: r.student)
    questions = questions_of(results)
    figures = _figures(results)
    messages = common_messages(results)
    statuses = Counter(r.status for r in results)
    seconds = [r.seconds for r in results]
    totals = [r.score for r in results]
    esc = html.escape
    assignment = results[0].assignment if results else "?"

    def img(name: str, alt: str) -> str:
        return f'<img class="figure" data-figure="{esc(name)}" alt="{esc(alt)}" src="data:image/png;base64,{figures[name]}">'

    parts = [f"<h1>Class report: {esc(assignment)}</h1>",
             f"<p>{len(results)} submissions; total score median {statistics.median(totals):g}, "
             f"mean {statistics.fmean(totals):.2f} of {max((r.max_score for r in results), default=0):g}; "
             f"graded by {', '.join(sorted({r.backend for r in results}))}.</p>",
             img("total", "histogram of total scores")]

    parts.append("<h2>Questions</h2><table><tr><th>question</th><th>points</th><th>mean</th>"
                 "<th>full marks</th><th>zero</th></tr>")
    for question, max_points in questions:
        got = [r.scores().get(question, 0.0) for r in results]
        parts.append(f"<tr><td>{esc(question)}</td><td>{max_points:g}</td><td>{statistics.fmean(got):.2f}</td>"
                     f"<td>{sum(g == max_points for g in got)}</td><td>{sum(g == 0 for g in got)}</td></tr>")
    parts.append("</table>")
    for question, max_points in questions:
        parts.append(f'<section class="question" data-question="{esc(question)}"><h3>{esc(question)}</h3>')
        parts.append(img(question, f"{question}: distribution of points"))
        listed = messages.get(question, [])
        if listed:
            parts.append("<p>Most common verdicts (submissions that got each):</p><ul>")
            for n, text in listed[:TOP_MESSAGES]:
                parts.append(f'<li data-count="{n}"><b>{n}</b> submission{"s" if n != 1 else ""}: {esc(text)}</li>')
            parts.append("</ul>")
            if len(listed) > TOP_MESSAGES:
                parts.append(f"<p>and {len(listed) - TOP_MESSAGES} other messages.</p>")
        else:
            parts.append("<p>No failed check in any graded submission.</p>")
        parts.append("</section>")

    parts.append("<h2>Statuses</h2><table><tr><th>status</th><th>submissions</th><th>who, why</th></tr>")
    for status, n in sorted(statuses.items(), key=lambda kv: (kv[0] != "ok", kv[0])):
        who = "" if status == "ok" else "; ".join(f"{esc(r.student)}: {esc(r.reason)}" for r in results
                                                  if r.status == status)
        parts.append(f'<tr data-status="{esc(status)}"><td>{esc(status)}</td><td>{n}</td><td>{who}</td></tr>')
    parts.append("</table>")

    parts.append("<h2>Grading time</h2>"
                 f"<p>per submission: median {statistics.median(seconds):.1f} s, "
                 f"slowest {max(seconds):.1f} s ({esc(max(results, key=lambda r: r.seconds).student)}), "
                 f"all together {sum(seconds):.0f} s.</p>" + img("seconds", "histogram of grading seconds"))
    style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}"
             "section.question{display:inline-block;vertical-align:top;width:28em;margin:.5em}")
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(assignment)}: class report</title>"
            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
