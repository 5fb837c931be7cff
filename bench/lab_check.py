"""Drive the course in a real JupyterLab, in headless Chromium, as a student would.

    python -m bench.lab_check course/02_*.ipynb course/04_*.ipynb --shots /tmp/shots

The script opens each notebook, runs all cells, counts error outputs and images, and nudges the
slider of every ``utils.widgets.Live`` one step, checking that its output redraws. The same code is
the library behind ``tests/test_browser.py``, which also walks Assignment 1's self-check round trip,
saves, and reloads the page with the kernel still running.

Needs Debian's Chromium (``apt-get install chromium``; ``.ci/run`` installs it) and Playwright's
Python package (installed with otter-grader); Playwright's own browser download is never used.
Works on copies in a temporary folder: JupyterLab autosaves, and committed notebooks stay clean.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import kernel_env

# Without these Chromium tries the network (updates, sync, QUIC probes) and needs a GPU/sandbox.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
BUSY_TEXT = "⏳"  # utils.widgets.BUSY_TEXT starts with it (not imported: this module needs no ipywidgets)


def find_chromium() -> str | None:
    """Path of a system Chromium, or None (``apt-get install chromium`` on Debian/Ubuntu)."""
    for candidate in (os.environ.get("CHROMIUM"), shutil.which("chromium"), *CHROMIUM_CANDIDATES):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class SliderResult:
    """What happened when one slider was nudged."""

    label: str
    redrew: bool
    busy_seen: bool
    seconds: float


@dataclass
class NotebookReport:
    notebook: str
    seconds: float = 0.0
    error_outputs: int = 0
    images: int = 0
    lives: int = 0
    sliders: list[SliderResult] = field(default_factory=list)


class Lab:
    """A JupyterLab server on 127.0.0.1 (token auth) over ``folder``, and headless Chromium on it.

    Use as a context manager; ``open(relpath)`` returns a :class:`Notebook` page object.
    Screenshots go to ``shots`` as ``NN_<name>.png`` in the order taken.
    """

    def __init__(self, folder: Path, shots: Path, chromium: str | None = None, startup_timeout: float = 120):
        self.folder, self.shots = Path(folder), Path(shots)
        self.chromium = chromium or find_chromium()
        if not self.chromium:
            raise RuntimeError("Chromium not found: install it (Debian: apt-get install chromium) or set CHROMIUM=path")
        self.startup_timeout = startup_timeout
        self.token = "recurrent-" + os.urandom(8).hex()
        self.port = free_port()
        self.shots.mkdir(parents=True, exist_ok=True)
        self._shot = 0
        self._state = Path(tempfile.mkdtemp(prefix="lab_state_"))
        self.log_path = self._state / "jupyterlab.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "Lab":
        self._start_server()
        try:
            from playwright.sync_api import sync_playwright

            self._pw = sync_playwright().start()
            self.browser = self._pw.chromium.launch(executable_path=self.chromium, args=CHROMIUM_FLAGS)
            self.page = self.browser.new_page(viewport={"width": 1400, "height": 1000})
            self.page.set_default_timeout(60_000)
        except BaseException:
            self._stop_server()
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.browser.close()
            self._pw.stop()
        finally:
            self._stop_server()

    def _start_server(self) -> None:
        env = kernel_env()
        # A private settings/workspace/runtime dir: no state from the user's own JupyterLab.
        for var, sub in [("JUPYTERLAB_SETTINGS_DIR", "settings"), ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
                         ("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTER_CONFIG_DIR", "config")]:
            env[var] = str(self._state / sub)
        # No "get notified about Jupyter news?" toast over the notebook (and no fetch of the news).
        notification = self._state / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
        notification.parent.mkdir(parents=True, exist_ok=True)
        notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        cmd = [str(Path(sys.executable).with_name("jupyter")), "lab", "--no-browser", "--ip=127.0.0.1",
               f"--port={self.port}", f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.folder}",
               "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        self._log = open(self.log_path, "w")
        self.server = subprocess.Popen(cmd, cwd=self.folder, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.time() + self.startup_timeout
        while time.time() < deadline:
            if self.server.poll() is not None:
                break
            try:
                urllib.request.urlopen(f"{self.base}/api/status?token={self.token}", timeout=2)
                return
            except OSError:
                time.sleep(0.5)
        self._stop_server()
        raise RuntimeError(f"JupyterLab did not start within {self.startup_timeout:.0f} s; its log:\n"
                           + self.log_path.read_text()[-3000:])

    def _stop_server(self) -> None:
        if self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
        self._log.close()

    def memory_mb(self) -> dict[str, float]:
        """Resident memory now: the JupyterLab server, and its kernels together (what Binder's RAM holds)."""
        import psutil

        server = psutil.Process(self.server.pid)
        kernels = sum(p.memory_info().rss for p in server.children(recursive=True))
        return {"server": round(server.memory_info().rss / 2**20), "kernels": round(kernels / 2**20)}

    def screenshot(self, name: str, full_page: bool = False, top=None, align: str = "start") -> Path:
        """Save the page as ``NN_name.png``; ``top`` (a locator) is scrolled into view first
        (``align``: "start" puts its top at the top of the view, "end" its bottom at the bottom)."""
        if top is not None:
            top.first.evaluate("(el, block) => el.scrollIntoView({block})", align)
            time.sleep(0.3)
        self._shot += 1
        path = self.shots / f"{self._shot:02d}_{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def open(self, relpath: str) -> "Notebook":
        nb = Notebook(self, relpath)
        nb.goto()
        return nb


class Notebook:
    """One notebook open in the Lab page. Cell indices are those of the .ipynb file."""

    def __init__(self, lab: Lab, relpath: str):
        self.lab, self.page, self.relpath = lab, lab.page, relpath

    @property
    def path(self) -> Path:
        return self.lab.folder / self.relpath

    def goto(self) -> None:
        self.page.goto(f"{self.lab.base}/lab/tree/{self.relpath}?token={self.lab.token}")
        self.wait_ready()

    def wait_ready(self) -> None:
        # "attached": other notebooks' (hidden) panels may come first in the page.
        self.page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", state="attached", timeout=120_000)
        # Every locator below is scoped to this notebook's panel (other notebooks may be open in
        # other tabs): the panel's id is the current main-area tab's data-id.
        tab = self.page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current", has_text=Path(self.relpath).name)
        tab.first.wait_for(timeout=60_000)
        self.root = self.page.locator(f"[id='{tab.first.get_attribute('data-id')}']")
        self.root.locator(".jp-Cell").first.wait_for(timeout=60_000)
        # The execution indicator can say idle before the kernel is connected: wait for the status bar too.
        self.wait_idle(120)
        self.page.wait_for_selector(".jp-StatusBar-Widget :text('Idle')", timeout=120_000)

    def wait_idle(self, timeout: float = 60) -> None:
        """Wait for this notebook's toolbar to report an idle kernel."""
        self.root.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=timeout * 1000)

    # ------------------------------------------------------------------ cells

    def cells(self):
        return self.root.locator(".jp-Notebook .jp-Cell")

    def cell(self, index: int):
        return self.cells().nth(index)

    def prompt(self, index: int) -> str:
        return self.cell(index).locator(".jp-InputArea-prompt").first.inner_text().strip()

    def run_all(self, timeout: float = 300) -> float:
        """Run > Run All Cells; wait until every code cell shows an execution count. Returns seconds."""
        start = time.time()
        for _attempt in range(3):  # a click before the kernel is ready runs nothing: retry
            self.page.click(".lm-MenuBar-itemLabel:text-is('Run')", timeout=10_000)
            self.page.click(".lm-Menu-itemLabel:text-is('Run All Cells')", timeout=10_000)
            time.sleep(3)
            prompts = self.root.locator(".jp-CodeCell .jp-InputArea-prompt")
            if prompts.filter(has_text="[*]").count() or prompts.filter(has_text=re.compile(r"\[\d+\]")).count():
                break
        self.root.locator(".jp-Notebook").evaluate(
            r"""(nb, ms) => new Promise((resolve, reject) => {
                   const done = () => { const p = Array.from(nb.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt'));
                                        return p.length > 0 && p.every(e => /\[\d+\]/.test(e.textContent)); };
                   const start = Date.now();
                   const tick = () => done() ? resolve(true)
                       : Date.now() - start > ms ? reject(new Error('Run All did not finish in ' + ms / 1000 + ' s'))
                       : setTimeout(tick, 250);
                   tick(); })""", timeout * 1000)
        self.wait_idle()
        return time.time() - start

    def run_cell(self, index: int, timeout: float = 120) -> str:
        """Click into cell ``index`` and press Shift+Enter, as a student does; return its output text."""
        cell = self.cell(index)
        cell.scroll_into_view_if_needed()
        before = self.prompt(index)
        cell.locator(".jp-InputArea-editor").click()
        self.page.keyboard.press("Shift+Enter")
        deadline = time.time() + timeout
        while time.time() < deadline:
            now = self.prompt(index)
            if re.fullmatch(r"\[\d+\]:?", now) and now != before:
                break
            time.sleep(0.2)
        else:
            raise TimeoutError(f"cell {index} did not finish within {timeout:.0f} s (prompt {self.prompt(index)!r})")
        self.wait_idle()
        return self.output_text(index)

    def output_text(self, index: int) -> str:
        area = self.cell(index).locator(".jp-OutputArea")
        return area.first.inner_text() if area.count() else ""

    def editor_text(self, index: int) -> str:
        return self.cell(index).locator(".cm-content").first.inner_text()

    def replace_source(self, index: int, text: str) -> None:
        """Select everything in the cell's editor and type ``text`` in its place.

        ``insert_text`` sends it as one input event (as a paste does): the editor's auto-indent and
        bracket closing, which act on single typed keys, do not mangle the indentation.
        """
        editor = self.cell(index).locator(".cm-content").first
        editor.scroll_into_view_if_needed()
        editor.click()
        self.page.keyboard.press("Control+a")
        self.page.keyboard.insert_text(text)

    def save(self, timeout: float = 30) -> None:
        """Ctrl+S, then wait until the file on disk changed and the tab is no longer dirty."""
        before = self.path.stat().st_mtime_ns
        self.page.keyboard.press("Control+s")
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.path.stat().st_mtime_ns != before and not self.page.locator(
                    ".lm-TabBar-tab.lm-mod-current.jp-mod-dirty").count():
                return
            time.sleep(0.2)
        raise TimeoutError(f"{self.relpath} was not saved within {timeout:.0f} s")

    def reload(self) -> None:
        """Reload the browser page; the kernel keeps running on the server."""
        self.page.reload()
        self.wait_ready()

    def on_disk(self) -> dict:
        return json.loads(self.path.read_text())

    # ------------------------------------------------------------------ outputs and widgets

    def error_outputs(self) -> int:
        """Tracebacks in cell outputs (an error in a widget's own output is counted too)."""
        return self.root.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
                                 ":has-text('Traceback'), .jp-OutputArea-output .jp-RenderedText"
                                 "[data-mime-type='application/vnd.jupyter.error']").count()

    def images(self) -> int:
        return self.root.locator(".jp-OutputArea-output img").count()

    def widget_errors(self) -> int:
        """Widget views the frontend could not draw ("Error displaying widget")."""
        return self.root.locator(".jp-OutputArea-output:has-text('Error displaying widget')").count()

    def lives(self):
        """Every ``utils.widgets.Live`` view on the page."""
        return self.root.locator(".recurrent-live")

    def wait_lives(self, count: int, timeout: float = 60) -> int:
        """Wait until ``count`` Live views are drawn (after a reload widgets are restored one by one)."""
        deadline = time.time() + timeout
        while time.time() < deadline and self.lives().count() < count:
            time.sleep(0.25)
        return self.lives().count()

    def live_output(self, live) -> str:
        """A digest of what the Live's Output widget shows (image sources and text)."""
        return live.locator(".recurrent-live-output").first.evaluate(
            """el => Array.from(el.querySelectorAll('img, pre, .jp-RenderedText'))
                       .map(n => n.tagName === 'IMG' ? n.src : n.textContent).join('|')""")

    def busy_shown(self, live) -> bool:
        """Whether the Live shows its busy sign, read in one step: the sign comes and goes while we
        poll, so a count() followed by inner_text() can find it gone and wait for it in vain."""
        return live.evaluate(
            """(el, text) => Array.from(el.querySelectorAll('.recurrent-live-status'))
                               .some(n => n.textContent.includes(text))""", BUSY_TEXT)

    def nudge(self, live, slider: int = 0, presses: int = 2, timeout: float = 60,
              busy_shot: str | None = None) -> SliderResult:
        """Move a Live's slider ``presses`` steps right with the keyboard; watch for the busy sign
        and for the output to change. Polls every 0.1 s so a sign shown for a second is seen;
        ``busy_shot`` names a screenshot taken the first time the busy sign is seen."""
        handle = live.locator(".widget-slider .noUi-handle, .jupyter-widget-slider .noUi-handle").nth(slider)
        label = live.locator(".widget-slider, .jupyter-widget-slider").nth(slider).locator(
            "label, .widget-label").first.text_content().strip()
        handle.scroll_into_view_if_needed()
        before = self.live_output(live)
        handle.focus()
        start = time.time()
        for _ in range(presses):
            self.page.keyboard.press("ArrowRight")
        busy = redrew = False
        while time.time() - start < timeout:
            if not busy and self.busy_shown(live):
                busy = True
                if busy_shot:
                    self.lab.screenshot(busy_shot)
            if self.live_output(live) != before and not self.busy_shown(live):
                redrew = True
                break
            time.sleep(0.1)
        return SliderResult(label, redrew, busy, round(time.time() - start, 2))

    def check_sliders(self, report: NotebookReport, name: str) -> None:
        lives = self.lives()
        report.lives = lives.count()
        for i in range(report.lives):
            live = lives.nth(i)
            for j in range(live.locator(".noUi-handle").count()):
                result = self.nudge(live, j, busy_shot=f"{name}_live{i}_slider{j}_busy")
                report.sliders.append(result)
                self.lab.screenshot(f"{name}_live{i}_slider{j}")


def check_notebook(lab: Lab, relpath: str, run_timeout: float = 300) -> NotebookReport:
    """Open, Run All, count errors and images, nudge every Live slider (the script's check)."""
    name = Path(relpath).stem
    nb = lab.open(relpath)
    report = NotebookReport(relpath)
    report.seconds = round(nb.run_all(run_timeout), 1)
    report.error_outputs, report.images = nb.error_outputs(), nb.images()
    lab.screenshot(f"{name}_after_run")
    nb.check_sliders(report, name)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path, help="notebooks to open")
    parser.add_argument("--shots", type=Path, default=Path("/tmp/lab_shots"), help="folder for screenshots")
    parser.add_argument("--chromium", default=None, help="browser binary (default: the system chromium)")
    parser.add_argument("--timeout", type=int, default=300, help="seconds allowed for Run All")
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="lab_check_"))
    copies = [shutil.copy(nb, folder / nb.name) for nb in args.notebooks]
    failures = 0
    with Lab(folder, args.shots, args.chromium) as lab:
        for copy in copies:
            report = check_notebook(lab, Path(copy).name, args.timeout)
            failures += report.error_outputs > 0 or not all(s.redrew for s in report.sliders)
            print(json.dumps(report, default=lambda o: o.__dict__), flush=True)
    print(f"screenshots in {args.shots}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
