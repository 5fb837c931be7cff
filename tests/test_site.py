"""The course site (``make site``): every lecture's page exists with its figures, in syllabus order,
and no page holds solution or hidden-test text.

Executing the lectures is the slow part; ``tests/test_notebooks.py`` (which runs first) leaves the
executed copies in ``build/executed/`` and the build reuses them.
"""

from __future__ import annotations

import html
import re
import time
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup

from bench.harness import ROOT
from docs import build as site

pytestmark = pytest.mark.notebook
SOLUTION_RE = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
HIDDEN_RE = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
MIN_LINE = 12  # shorter lines ("return dW") are too common to identify a solution


def squash(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "html"
    start = time.time()
    pages = site.build(out, log=lambda *a: None)
    print(f"site built in {time.time() - start:.1f} s")
    return out, pages


def page_text(path: Path) -> str:
    return squash(BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").get_text(" "))


def compact(text: str) -> str:
    """Text without any whitespace: highlighted code (one span per token) compares equal to its source."""
    return "".join(text.split())


def test_every_lecture_has_a_page_with_its_figures(built):
    out, _ = built
    for lecture in site.lectures():
        page = out / "lectures" / f"{lecture.stem}.html"
        assert page.exists(), f"no page for {lecture.name}"
        executed = nbformat.read(site.executed_path(lecture), as_version=4)
        figures = sum("image/png" in o.get("data", {}) for c in executed.cells if c.cell_type == "code"
                      for o in c.outputs)
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        images = [img["src"] for img in soup.find_all("img") if "_images" in img["src"]]
        assert len(images) == figures, f"{page.name}: {len(images)} figures on the page, {figures} in the notebook"
        missing = [src for src in images if not (page.parent / src).resolve().exists()]
        assert not missing, f"{page.name}: images {missing} are not in the site"
        assert site.title(lecture) in page_text(page), f"{page.name} lacks its title"
        # Outputs are there (executed), and no cell shows an error.
        assert soup.select(".cell_output"), f"{page.name} shows no outputs"
        assert "Traceback" not in page_text(page), f"{page.name} shows a traceback"


def test_lectures_with_figures_show_some():
    for name in ["01_sequences_and_recurrence", "04_vanishing_exploding_clipping"]:
        if (ROOT / "course" / f"{name}.ipynb").exists():
            executed = nbformat.read(site.executed_path(ROOT / "course" / f"{name}.ipynb"), as_version=4)
            assert any("image/png" in o.get("data", {}) for c in executed.cells if c.cell_type == "code"
                       for o in c.outputs), f"{name} executed without a single figure"


def test_table_of_contents_in_syllabus_order(built):
    out, pages = built
    soup = BeautifulSoup((out / "index.html").read_text(encoding="utf-8"), "html.parser")
    main = soup.select_one("main") or soup
    links = [a["href"].split("#")[0].removesuffix(".html") for a in main.select(".toctree-wrapper a.reference")]
    lectures = [f"lectures/{p.stem}" for p in site.lectures()]
    assignments = [f"assignments/{p.parent.name}" for p in site.assignments()]
    assert links == lectures + assignments, f"the index lists {links}"
    assert lectures == sorted(lectures, key=lambda p: int(p.split("/")[1][:2])), "lectures are not in syllabus order"


def test_assignments_are_the_student_release(built):
    out, _ = built
    for notebook in site.assignments():
        page = out / "assignments" / f"{notebook.parent.name}.html"
        assert page.exists(), f"no page for {notebook}"
        text = page_text(page)
        release = nbformat.read(notebook, as_version=4)
        stub = next(c.source for c in release.cells if c.cell_type == "code" and "YOUR CODE HERE" in c.source)
        raw = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").get_text("")
        assert compact(stub) in compact(raw), f"{page.name} does not show the release's stub cells as they are"
        assert "YOUR CODE HERE" in text


def secret_lines() -> list[str]:
    """Distinctive lines of every solution region and hidden test: none may appear on the site."""
    public = " ".join(squash(c.source) for p in [*site.lectures(), *site.assignments()]
                      for c in nbformat.read(p, as_version=4).cells)
    sources = [c.source for p in (ROOT / "solutions").glob("*/*.ipynb") for c in nbformat.read(p, as_version=4).cells]
    regions = [m.group(1) for s in sources for rx in (SOLUTION_RE, HIDDEN_RE) for m in rx.finditer(s)]
    regions += [p.read_text() for p in (ROOT / "solutions").glob("*/spec.py")]  # hidden cases and all
    public = compact(public)
    lines = {compact(line) for region in regions for line in region.splitlines() if not line.lstrip().startswith("#")}
    return sorted(line for line in lines if len(line) >= MIN_LINE and line not in public)


def leaks(path: Path, secrets: list[str]) -> list[str]:
    """The markers and secret lines found in one site file (HTML compared as its visible text)."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    text = BeautifulSoup(raw, "html.parser").get_text("") if path.suffix == ".html" else raw
    text = compact(text)
    return [m for m in MARKERS if m in raw] + [line for line in secrets if line in text]


def test_no_page_holds_solution_or_hidden_test_text(built):
    out, _ = built
    secrets = secret_lines()
    assert len(secrets) > 20, f"found only {len(secrets)} solution/hidden-test lines to look for: is the search broken?"
    files = [f for pattern in ("*.html", "*.js", "*.txt", "*.ipynb") for f in out.rglob(pattern) if "_static" not in f.parts]
    assert any(f.parent.name == "assignments" for f in files)
    for path in files:
        found = leaks(path, secrets)
        assert not found, f"{path.relative_to(out)} holds solution/hidden-test text: {found[:5]}"


def test_the_leak_check_catches_a_highlighted_solution_line(tmp_path):
    # The check above must be able to fail: a solution line split into highlighting spans is found.
    secrets = secret_lines()
    solution = next((ROOT / "solutions").glob("*/*.ipynb"))
    region = next(m.group(1) for c in nbformat.read(solution, as_version=4).cells for m in SOLUTION_RE.finditer(c.source))
    planted = next(line for line in region.splitlines() if compact(line) in secrets)
    # As Pygments writes it: one span per token, whitespace between them as bare text.
    spans = "".join(f"<span class='n'>{html.escape(tok)}</span>" if tok.strip() else tok
                    for tok in re.split(r"(\W)", planted) if tok)
    page = tmp_path / "page.html"
    page.write_text(f"<html><body><div class='highlight'><pre>{spans}</pre></div></body></html>")
    assert leaks(page, secrets) == [compact(planted)]
    page.write_text("<html><body><p>nothing to see</p></body></html>")
    assert leaks(page, secrets) == []


def test_equations_render_without_a_network(built):
    """MathJax is part of the site (no CDN): every page that has math loads the local copy, and the
    files that copy loads are there."""
    out, pages = built
    with_math = 0
    for page in pages:
        soup = BeautifulSoup((out / f"{page}.html").read_text(), "html.parser")
        sources = [s.get("src", "") for s in soup.find_all("script")]
        assert not [s for s in sources if "mathjax" in s.lower() and s.startswith(("http:", "https:", "//"))], \
            f"{page} loads MathJax from the network: {sources}"
        if soup.select(".math"):
            with_math += 1
            assert any(s.split("?")[0].endswith("mathjax/es5/tex-mml-chtml.js") for s in sources), f"{page} has math but no MathJax"
    assert with_math >= 5, f"only {with_math} pages have equations"
    assert (out / "_static" / "mathjax" / "es5" / "tex-mml-chtml.js").stat().st_size > 500_000
    assert list((out / "_static" / "mathjax" / "es5" / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
