"""Run a grading subprocess with limits: wall-clock timeout, optional CPU and memory limits, and the
whole process group killed at the end (the engine, its kernel, and anything the student started)."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Limits:
    """Per-submission limits. ``None`` disables a limit."""

    wall_s: float = 300.0  # wall-clock seconds for the whole engine run
    cpu_s: int | None = None  # RLIMIT_CPU per process (the kernel inherits it)
    memory_mb: int | None = None  # RLIMIT_AS per process


@dataclass
class RunResult:
    returncode: int | None
    timed_out: bool
    seconds: float
    output: str  # stdout and stderr, last part only


def _set_limits(limits: Limits):
    def apply():
        if limits.cpu_s is not None:
            resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s))
        if limits.memory_mb is not None:
            size = limits.memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (size, size))

    return apply


def kill_group(pgid: int) -> None:
    """SIGKILL every process of the group (SIGINT-ignoring loops included); ignore if already gone."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_limited(cmd: list[str], cwd: Path, env: dict, limits: Limits, log_path: Path | None = None) -> RunResult:
    """Run ``cmd`` in its own session (process group) under ``limits``; always kill the group at the end."""
    start = time.monotonic()
    log_path = log_path or Path(cwd) / "engine.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                preexec_fn=_set_limits(limits))
        timed_out = False
        try:
            proc.wait(timeout=limits.wall_s)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            kill_group(proc.pid)  # also reaps kernels left behind by a finished engine
            proc.wait()
    output = log_path.read_bytes()[-20000:].decode("utf-8", "replace")
    return RunResult(None if timed_out else proc.returncode, timed_out, time.monotonic() - start, output)
