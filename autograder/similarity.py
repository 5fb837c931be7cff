"""Similarity report: which students' answers look copied from each other.

Only what students wrote is compared: each submission's solution cells (found by their nbgrader
``grade_id``, wherever the student moved them) are written out as one Python file per student, and the
release's own solution cells (signatures, docstrings, ``# YOUR CODE HERE`` stubs) are given to
copydetect as boilerplate, so code every student received never counts. copydetect (winnowed
fingerprints of tokenised code: names, strings and constants replaced, so renaming variables does not
hide a copy) does the comparison and writes its side-by-side HTML report.

Two files come out, next to ``grades.csv``:

* ``similarity.html``: copydetect's report, every pair above the threshold with the shared code
  highlighted side by side;
* ``similarity.csv``: every pair, most similar first (``similarity`` is the larger of the two
  directions: the share of one student's fingerprints found in the other's).

A high score is a reason to look, not a verdict: short answers to the same small function are often
alike, which is why the threshold is stated and the code is shown.
"""

from __future__ import annotations

import csv
import io
import itertools
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

DEFAULT_THRESHOLD = 0.5  # share of one student's fingerprints found in another's
NOISE_TOKENS = 25  # copydetect's default: shorter shared runs (after tokenising) are ignored


@dataclass
class Pair:
    a: str
    b: str
    similarity_a: float  # share of a's fingerprints found in b
    similarity_b: float
    overlap_tokens: int

    @property
    def similarity(self) -> float:
        return max(self.similarity_a, self.similarity_b)


def solution_code(notebook: Path | dict) -> dict[str, str]:
    """``grade_id -> source`` of every solution cell (nbgrader metadata ``solution: true``)."""
    nb = nbformat.read(notebook, as_version=4) if isinstance(notebook, (str, Path)) else notebook
    code = {}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") == "code" and meta.get("solution") and meta.get("grade_id"):
            code[meta["grade_id"]] = cell.source
    return code


def _as_file(cells: dict[str, str], order: list[str]) -> str:
    return "\n\n".join(f"# --- {gid}\n{cells[gid]}" for gid in order if gid in cells) + "\n"


def similarity(submissions: dict[str, Path], release: Path, out: Path,
               threshold: float = DEFAULT_THRESHOLD) -> list[Pair]:
    """Compare every pair of ``submissions`` (student -> notebook); write ``similarity.html`` and
    ``similarity.csv`` into ``out``; return the pairs, most similar first."""
    import matplotlib

    matplotlib.use("Agg")  # copydetect draws its figures with pyplot
    from copydetect import CopyDetector

    if len(submissions) < 2:
        raise ValueError(f"a similarity report needs at least two submissions, got {len(submissions)}")
    given = solution_code(release)
    if not given:
        raise ValueError(f"{release} has no nbgrader solution cells: is it the student release?")
    order = list(given)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="recurrent-similarity-") as tmp:
        students, boiler = Path(tmp) / "students", Path(tmp) / "boilerplate"
        students.mkdir()
        boiler.mkdir()
        (boiler / "release.py").write_text(_as_file(given, order))
        files = {}
        for student, notebook in sorted(submissions.items()):
            path = students / f"{student}.py"
            path.write_text(_as_file(solution_code(notebook), order))
            files[str(path)] = student
        detector = CopyDetector(test_dirs=[str(students)], ref_dirs=[str(students)],
                                boilerplate_dirs=[str(boiler)], extensions=["py"], noise_t=NOISE_TOKENS,
                                guarantee_t=NOISE_TOKENS, display_t=threshold, autoopen=False, silent=True,
                                out_file=str(out / "similarity.html"))
        detector.run()
        index = {f: i for i, f in enumerate(detector.test_files)}
        ref_index = {f: i for i, f in enumerate(detector.ref_files)}
        pairs = []
        for fa, fb in itertools.combinations(sorted(files), 2):
            sim = detector.similarity_matrix[index[fa], ref_index[fb]]
            back = detector.similarity_matrix[index[fb], ref_index[fa]]
            pairs.append(Pair(files[fa], files[fb], max(float(sim[0]), 0.0), max(float(back[0]), 0.0),
                              int(max(detector.token_overlap_matrix[index[fa], ref_index[fb]], 0))))
        html = detector.generate_html_report(output_mode="return")
    note = (f"<p><b>Recurrent:</b> solution cells only (the release's cells are boilerplate); pairs above "
            f"{threshold:.0%} shown; {len(submissions)} submissions, {len(pairs)} pairs. A high score is a "
            f"reason to look, not a verdict.</p>")
    (out / "similarity.html").write_text(html.replace("<body>", "<body>" + note, 1), encoding="utf-8")
    pairs.sort(key=lambda p: (-p.similarity, p.a, p.b))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student_a", "student_b", "similarity", "a_in_b", "b_in_a", "overlap_tokens", "flagged"])
    for p in pairs:
        writer.writerow([p.a, p.b, f"{p.similarity:.3f}", f"{p.similarity_a:.3f}", f"{p.similarity_b:.3f}",
                         p.overlap_tokens, "yes" if p.similarity > threshold else "no"])
    (out / "similarity.csv").write_text(buffer.getvalue(), encoding="utf-8")
    return pairs
