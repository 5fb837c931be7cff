"""Open notebooks in a real JupyterLab in headless Chromium, run them, and exercise their widgets.

    python -m bench.lab_check course/02_*.ipynb --shots /tmp/shots

For each notebook: start JupyterLab (once), open the notebook, *Run All*, wait for the kernel
to go idle, count error outputs and rendered ipywidgets, then nudge every slider one step with
the keyboard and check that the output next to it changed. Screenshots before and after go to
``--shots``. Needs Chromium (Debian: ``apt-get install chromium``) and playwright (installed
with otter-grader). This is a manual verification tool, not part of ``make test``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.harness import ROOT, kernel_env

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_lab(port: int, token: str, folder: Path) -> subprocess.Popen:
    cmd = [str(ROOT / ".venv" / "bin" / "jupyter"), "lab", "--no-browser", f"--port={port}",
           f"--IdentityProvider.token={token}", "--notebook-dir", str(folder)]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=kernel_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(120):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=1)
            return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("JupyterLab did not start within 60 s")


def check_notebook(page, port: int, token: str, notebook: Path, shots: Path, run_timeout: int) -> dict:
    rel = notebook.name
    page.goto(f"http://127.0.0.1:{port}/lab/tree/{rel}?token={token}")
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
    # The indicator can say idle before the kernel is connected: wait for the status bar's kernel name.
    page.wait_for_selector(".jp-StatusBar-Widget :text('Idle')", timeout=60_000)
    start = time.time()
    for _attempt in range(3):  # a click before the kernel is ready runs nothing: retry
        page.click(".lm-MenuBar-itemLabel:text-is('Run')", timeout=10_000)
        page.click(".lm-Menu-itemLabel:text-is('Run All Cells')", timeout=10_000)
        time.sleep(3)
        if page.locator(".jp-CodeCell .jp-InputArea-prompt").filter(has_text="[*]").count() or \
                page.locator(".jp-CodeCell .jp-InputArea-prompt").filter(has_text=re.compile(r"\[\d+\]")).count():
            break
    # Done when every code cell shows an execution number ([ ] = not run, [*] = running).
    page.wait_for_function(
        """() => { const p = Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt'));
                   return p.length > 0 && p.every(e => /\[\d+\]/.test(e.textContent)); }""",
        timeout=run_timeout * 1000)
    seconds = time.time() - start
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'] >> text=Traceback").count()
    errors += page.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr']:has-text('Error')").count()
    widgets = page.locator(".jupyter-widgets").count()
    sliders = page.locator(".widget-slider .noUi-handle, .jupyter-widget-slider .noUi-handle, input[type=range]")
    stem = notebook.stem
    page.screenshot(path=str(shots / f"{stem}_after_run.png"), full_page=False)
    changed, tried = 0, 0
    for i in range(sliders.count()):
        handle = sliders.nth(i)
        # Compare the cell's outputs other than the widget's own controls (its slider shows its value).
        area = handle.locator("xpath=ancestor::div[contains(concat(' ', normalize-space(@class), ' '), ' jp-OutputArea ')][1]")
        if not area.count():
            continue
        handle.scroll_into_view_if_needed()
        def shown(a=area.first):
            return a.evaluate("""el => Array.from(el.querySelectorAll('img, pre, .jp-RenderedText, .jp-RenderedHTMLCommon'))
                                   .filter(n => !n.closest('.widget-slider, .jupyter-widget-slider, .widget-readout'))
                                   .map(n => n.tagName === 'IMG' ? n.src : n.textContent).join('|')""")

        before = hashlib.sha1(shown().encode()).hexdigest()
        handle.focus()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        tried += 1
        for _ in range(40):  # up to 20 s for the callback to redraw
            time.sleep(0.5)
            if hashlib.sha1(shown().encode()).hexdigest() != before:
                changed += 1
                break
        page.screenshot(path=str(shots / f"{stem}_slider{i}.png"))
    return {"notebook": rel, "seconds": round(seconds, 1), "error_outputs": errors,
            "widgets": widgets, "sliders_tried": tried, "sliders_redrew": changed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path, help="notebooks to open")
    parser.add_argument("--shots", type=Path, default=Path("/tmp/lab_shots"), help="folder for screenshots")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium", help="browser binary")
    parser.add_argument("--timeout", type=int, default=300, help="seconds allowed for Run All")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    args.shots.mkdir(parents=True, exist_ok=True)
    # Work on copies: JupyterLab autosaves, and committed notebooks must stay output-free.
    folder = Path(tempfile.mkdtemp(prefix="lab_check_"))
    copies = [Path(shutil.copy(nb, folder / nb.name)) for nb in args.notebooks]
    port, token = free_port(), "labcheck"
    lab = start_lab(port, token, folder)
    failures = 0
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            for nb in copies:
                result = check_notebook(page, port, token, nb, args.shots, args.timeout)
                failures += result["error_outputs"] > 0 or result["sliders_redrew"] < result["sliders_tried"]
                print(result, flush=True)
            browser.close()
    finally:
        lab.terminate()
        lab.wait(timeout=20)
    print(f"screenshots in {args.shots}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
