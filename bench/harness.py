"""Execute a notebook in a fresh kernel, offline, on the CPU; measure wall time and peak memory.

Each notebook runs in its own child process (``python -m bench.harness NOTEBOOK``), whose only
child is the Jupyter kernel, so ``getrusage(RUSAGE_CHILDREN)`` in that process is the kernel's
peak resident memory and CPU time, exactly, with no polling.

Used by ``tests/test_notebooks.py`` (does every notebook run?) and ``bench/notebooks.py``
(how long and how much memory does each take?).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class NotebookRun:
    """The outcome of executing one notebook."""

    notebook: str
    ok: bool
    seconds: float
    peak_mb: float  # the kernel's peak resident set size
    error: str = ""
    cpu_seconds: float = 0.0  # the kernel's CPU time, user + system (on a loaded machine, steadier than wall time)


def kernel_env() -> dict[str, str]:
    """The environment a notebook runs in: CPU only, inline plots, the repo importable."""
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # let ipykernel's inline backend draw the figures
    env["RECURRENT_DEVICE"] = "cpu"
    env["CUDA_VISIBLE_DEVICES"] = ""
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.setdefault("TQDM_MININTERVAL", "5")
    return env


def executed_path(path: str | Path) -> Path:
    """Where the executed copy of a course notebook is kept (``build/executed/``, git-ignored).

    The name carries a hash of the notebook and of the ``utils`` package it imports, so a copy is
    reused (by the course site, ``make site``) only while neither changed. ``tests/test_notebooks.py``
    writes these copies as it runs each notebook, so the site build executes nothing twice.
    """
    path = Path(path).resolve()
    digest = hashlib.sha256(path.read_bytes())
    for source in sorted((ROOT / "utils").glob("*.py")):
        digest.update(source.name.encode() + source.read_bytes())
    return ROOT / "build" / "executed" / f"{path.stem}.{digest.hexdigest()[:16]}.ipynb"


def _save_executed(nb, save: Path) -> None:
    import nbformat

    save.parent.mkdir(parents=True, exist_ok=True)
    for stale in save.parent.glob(f"{save.name.split('.')[0]}.*.ipynb"):
        stale.unlink()
    tmp = save.with_suffix(".tmp")
    nbformat.write(nb, tmp)
    tmp.replace(save)  # atomic: a reader never sees half a notebook


def _execute_here(path: Path, timeout: int, save: Path | None = None) -> NotebookRun:
    """Execute ``path`` in a kernel started by this process (call in a fresh process).
    With ``save``, the executed notebook is written there when every cell ran."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", allow_errors=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    error = ""
    try:
        client.execute(env=kernel_env())
    except CellExecutionError as exc:
        error = str(exc)[-3000:]
    except (CellTimeoutError, DeadKernelError, TimeoutError, RuntimeError) as exc:
        error = f"{type(exc).__name__}: {exc}"[-3000:]
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the kernel, this process's only child
    peak_kb = usage.ru_maxrss  # Linux: kilobytes
    if save is not None and not error:
        _save_executed(nb, save)
    return NotebookRun(str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path),
                       not error, round(seconds, 2), round(peak_kb / 1024, 1), error,
                       round(usage.ru_utime + usage.ru_stime, 2))


def run_notebook(path: str | Path, timeout: int = 900, save: str | Path | None = None) -> NotebookRun:
    """Execute one notebook in a fresh child process and return what happened (never raises on cell errors).
    With ``save``, the executed notebook is also written there (see ``executed_path``)."""
    path = Path(path).resolve()
    extra = ["--save", str(save)] if save is not None else []
    proc = subprocess.run(
        [sys.executable, "-m", "bench.harness", str(path), "--timeout", str(timeout), *extra],
        cwd=ROOT, capture_output=True, text=True, env=kernel_env(), timeout=timeout + 120,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        return NotebookRun(str(path), False, 0.0, 0.0, f"harness crashed (exit {proc.returncode}): {proc.stderr[-3000:]}")
    return NotebookRun(**json.loads(lines[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Execute one notebook in a fresh kernel; print a JSON result line.")
    parser.add_argument("notebook", type=Path, help="path to the .ipynb file")
    parser.add_argument("--timeout", type=int, default=900, help="seconds allowed per cell")
    parser.add_argument("--save", type=Path, default=None, help="write the executed notebook here (when it ran)")
    args = parser.parse_args(argv)
    result = _execute_here(args.notebook.resolve(), args.timeout, args.save)
    print(json.dumps(asdict(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
