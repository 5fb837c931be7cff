"""Build the course site: every lecture executed, assignments as their student release, one HTML site.

    make site                       # = python -m docs.build; opens as build/site/index.html
    python -m docs.build --out /tmp/site

Lectures (``course/*.ipynb``, syllabus order by their number) are executed in a fresh kernel on
the CPU by ``bench.harness``; an executed copy already in ``build/executed/`` (written by
``tests/test_notebooks.py`` for the same notebook and ``utils``) is reused instead. Assignments
(``assignments/<aN>/<aN>.ipynb``) are the student release: no solutions, no hidden tests, not run.
Then Sphinx renders everything (``docs/conf.py``), offline.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.harness import ROOT, executed_path, run_notebook

DOCS = ROOT / "docs"
DEFAULT_OUT = ROOT / "build" / "site"


def lectures() -> list[Path]:
    return sorted((ROOT / "course").glob("[0-9][0-9]_*.ipynb"))


def assignments() -> list[Path]:
    return sorted(p for p in (ROOT / "assignments").glob("*/*.ipynb") if p.stem == p.parent.name)


def title(path: Path) -> str:
    """The notebook's first Markdown heading."""
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return path.stem


def executed(lecture: Path, timeout: int) -> tuple[Path, str]:
    """An executed copy of ``lecture``: the cached one, or a fresh run. Returns (path, how)."""
    cached = executed_path(lecture)
    if cached.exists():
        return cached, "reused"
    run = run_notebook(lecture, timeout=timeout, save=cached)
    if not run.ok or not cached.exists():
        raise SystemExit(f"{lecture.name} failed to execute, so the site cannot show it:\n{run.error}")
    return cached, f"executed in {run.seconds:.0f} s"


INDEX = """# Recurrent

Interactive notebooks that teach recurrent neural networks: a vanilla RNN from scratch in numpy,
a character language model on Shakespeare, backpropagation through time, vanishing and exploding
gradients, and on to LSTMs, GRUs, sequence-to-sequence models and attention.

This site shows every lecture **executed**, with its outputs and figures (the sliders are drawn at
their default values; to move them, open the notebook in JupyterLab or on Binder). Assignments are
shown as students receive them. To run anything, see the README: `make lab`, or Binder.

```{{toctree}}
:caption: Lectures
:maxdepth: 1

{lectures}
```

```{{toctree}}
:caption: Assignments
:maxdepth: 1

{assignments}
```
"""


def mathjax_source() -> Path | None:
    """MathJax 3's browser files from the ``django-static-mathjax`` wheel (no Django needed: it is only
    the files), so the site renders its equations offline; None if the package is not installed."""
    try:
        import mathjax
    except ImportError:
        return None
    folder = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    return folder if (folder / "tex-mml-chtml.js").is_file() else None


def copy_mathjax(target: Path, log=print) -> bool:
    """Copy what ``tex-mml-chtml.js`` loads (its CHTML fonts, menu, accessibility and TeX extensions:
    about 3 MB; not the speech engine or the other bundles) to ``target/es5``."""
    source = mathjax_source()
    if source is None:
        log("  warning: django-static-mathjax is not installed; equations will load MathJax from a CDN")
        return False
    keep = {"tex-mml-chtml.js", "output", "ui", "a11y", "input", "adaptors"}
    shutil.copytree(source, target / "es5", ignore=lambda folder, names: [
        n for n in names if Path(folder) == source and n not in keep])
    return True


def layout(src: Path, timeout: int, log=print) -> dict[str, str]:
    """Write the Sphinx source folder: conf.py, index.md, lectures/ and assignments/."""
    if src.exists():
        shutil.rmtree(src)
    (src / "lectures").mkdir(parents=True)
    (src / "assignments").mkdir()
    shutil.copy(DOCS / "conf.py", src / "conf.py")
    copy_mathjax(src / "_static" / "mathjax", log)
    pages = {}
    for lecture in lectures():
        path, how = executed(lecture, timeout)
        shutil.copy(path, src / "lectures" / lecture.name)
        pages[f"lectures/{lecture.stem}"] = title(lecture)
        log(f"  {lecture.name}: {how}")
    for notebook in assignments():
        name = f"{notebook.parent.name}.ipynb"
        shutil.copy(notebook, src / "assignments" / name)
        pages[f"assignments/{notebook.parent.name}"] = title(notebook)
        log(f"  {notebook.relative_to(ROOT)}: student release")
    lecture_pages = "\n".join(p for p in pages if p.startswith("lectures/"))
    assignment_pages = "\n".join(p for p in pages if p.startswith("assignments/"))
    (src / "index.md").write_text(INDEX.format(lectures=lecture_pages, assignments=assignment_pages))
    return pages


def build(out: Path = DEFAULT_OUT, timeout: int = 900, log=print) -> dict[str, str]:
    """Build the site into ``out`` (HTML at ``out/index.html``). Returns page -> title."""
    start = time.time()
    out = Path(out).resolve()
    src = out.parent / f"{out.name}-src"
    log(f"== laying out {src}")
    pages = layout(src, timeout, log)
    log(f"== sphinx-build -> {out}")
    doctrees = out.parent / f"{out.name}-doctrees"
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-d", str(doctrees), str(src), str(out)],
                          capture_output=True, text=True)
    if proc.stderr.strip():
        log(proc.stderr.strip())
    if proc.returncode != 0:
        raise SystemExit(f"sphinx-build failed (exit {proc.returncode})")
    log(f"== site built in {time.time() - start:.0f} s: {out / 'index.html'}")
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default build/site)")
    parser.add_argument("--timeout", type=int, default=900, help="seconds allowed per cell when executing")
    args = parser.parse_args(argv)
    build(args.out, args.timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
