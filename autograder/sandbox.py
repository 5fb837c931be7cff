"""Run one command (a notebook executor and its kernel) in isolation, under limits, and always kill it.

``run_sandboxed(argv, workdir, limits, env)`` starts ``argv`` in ``workdir`` and returns a
``SandboxResult``: a status (``ok``, ``error``, ``timeout``, ``cpu_limit``, ``memory``,
``output_limit``, ``killed``, ``sandbox_error``), a reason a person can read, what it used, the
head and tail of its output, and ``isolation``: what was actually enforced.

How, when the grader runs as root (the course machines and CI):

* ``unshare`` gives the command its own mount, network, PID, IPC and UTS namespaces. A small
  set-up step (this file run as a script, ``--inner``) then, inside them and still as root:
  mounts an empty tmpfs over every hidden path (the repository, the grader's home: solutions,
  hidden cases, gradebooks, ``.git``), binds back read-only the few paths the command needs
  (``expose``: the virtual environment, the Python install, ``utils/``...), gives ``/tmp``,
  ``/var/tmp``, ``/dev/shm`` private size-capped tmpfs, hides the working directory's siblings
  (other students' copies), remounts everything else read-only, brings ``lo`` up (the kernel
  talks ZMQ over 127.0.0.1; nothing else is reachable), joins the memory/pids/cpuacct cgroups,
  and only then drops to ``nobody`` (no groups, no new privileges) with rlimits, and ``exec``s.
  It is PID 1 of the namespace: when the command ends, or when the watchdog SIGKILLs it, the
  kernel kills every process left inside, however it daemonised or whatever signals it ignores.
* The watchdog (this process) enforces wall time, CPU time summed over all processes, total
  output and working-directory size, reads peak memory and OOM kills from the cgroup, and kills.

Without root the same happens in a user namespace (no user drop: the command keeps the grader's
uid) if the kernel allows one, else with rlimits and process-group kills only; ``isolation``
says so in ``not_enforced`` rather than pretending.

Use from the grading pipeline (one submission)::

    workdir = prepare_workdir({"submission/a1.ipynb": notebook, "course": course_tree}, base=batch_dir)
    result = run_sandboxed(cmd, workdir, Limits(), env={"RECURRENT_CAPTURE_IN": ..., ...},
                           expose=default_expose() + [inputs_dir, public_tests], cwd=workdir / "course")
    data = read_output_file(workdir, "capture/q1.npz")  # never open what the command left directly

Anything in ``workdir`` or ``expose`` is readable by the student's code: never put solutions
there (a solution notebook, nbgrader's ``source/``): the kernel could load it and capture the
reference's outputs as its own.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path

try:
    from .defaults import WALL_S
except ImportError:  # run as the inner script (``python -I -S sandbox.py --inner``): its limits come in its spec
    WALL_S = None

NOBODY = 65534
REPO = Path(__file__).resolve().parents[1]
STATUSES = ("ok", "error", "timeout", "cpu_limit", "memory", "output_limit", "killed", "sandbox_error")
SCRATCH_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")  # world-writable on a usual Linux
CGROUP_V1 = Path("/sys/fs/cgroup")
SETUP_FAILED = 125  # exit code of the inner set-up step when it refused to run the command
MB = 1024 * 1024


def _source_digest() -> str:
    """This file's digest: the inner step refuses a spec written by a different version of it
    (the file changed on disk while a grader that imported the old one was running)."""
    import hashlib

    with open(__file__, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()[:16]


SOURCE_DIGEST = _source_digest()


@dataclass
class Limits:
    """Per-run limits. ``None`` disables one. Defaults are far above what a course notebook uses."""

    wall_s: float | None = WALL_S  # wall-clock seconds for the whole command, kernel start included
    cpu_s: float | None = 1800.0  # CPU seconds summed over every process (torch uses several cores)
    memory_mb: int | None = 4096  # memory of all processes together (cgroup); else per-process address space
    max_processes: int | None = 512  # tasks (processes + threads) at once: cgroup pids, else RLIMIT_NPROC
    max_output_bytes: int | None = 16 * MB  # stdout + stderr of the command; more is killed as output_limit
    max_file_mb: int | None = 512  # largest single file it may write (RLIMIT_FSIZE)
    disk_mb: int | None = 2048  # total size of the working directory (checked every disk_check_s)
    scratch_mb: int = 256  # size of each private /tmp, /var/tmp, /dev/shm (isolated modes only)
    open_files: int = 4096  # RLIMIT_NOFILE
    keep_output_bytes: int = 32_000  # head and tail of each stream kept in the result
    poll_s: float = 0.05  # watchdog period
    disk_check_s: float = 1.0  # how often the working directory is measured
    address_space_slack_mb: int = 4096  # RLIMIT_AS = memory_mb + this, only when no cgroup is available


@dataclass
class Isolation:
    """What was actually enforced for one run (and, in ``not_enforced``, what was not and why)."""

    mode: str  # "root" (namespaces + user drop), "userns" (namespaces, grader's uid), "none"
    user: str | None = None  # e.g. "uid 65534" when the command ran as another user
    network: bool = False  # own network namespace with only loopback
    pid_namespace: bool = False  # every process dies with the command
    hidden: list[str] = field(default_factory=list)
    exposed: list[str] = field(default_factory=list)
    readonly_root: bool = False  # everything but the working directory and scratch mounts read-only
    scratch: list[str] = field(default_factory=list)  # private tmpfs mounts
    cgroups: list[str] = field(default_factory=list)  # controllers used: memory, pids, cpuacct
    rlimits: dict = field(default_factory=dict)
    not_enforced: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"mode={self.mode}", f"user={self.user or 'unchanged'}", f"netns={self.network}",
                 f"pidns={self.pid_namespace}", f"hidden={len(self.hidden)}", f"readonly={self.readonly_root}",
                 f"cgroups={','.join(self.cgroups) or 'none'}"]
        return " ".join(parts) + "".join(f"\n  not enforced: {line}" for line in self.not_enforced)


@dataclass
class SandboxResult:
    """The outcome of one sandboxed run. Never raised: every failure is a status and a reason."""

    status: str  # one of STATUSES
    reason: str  # for people: what happened, which limit, what to do
    returncode: int | None  # the command's exit code; negative: killed by that signal; None: never ran
    wall_s: float
    cpu_s: float  # user + system, all processes (cgroup), else the waited-for process tree
    peak_memory_mb: float  # cgroup peak (page cache included), else the largest process' peak RSS
    stdout: str
    stderr: str
    stdout_bytes: int  # total written, including what was not kept
    stderr_bytes: int
    isolation: Isolation

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict:
        return asdict(self)


# ---------------------------------------------------------------- policy: what the command may see


# Top-level folders a Python process needs from the host; every other top-level folder is hidden,
# so instructor files anywhere else on the machine (another checkout of the course, a grading folder
# under /work or /srv, ...) are out of sight, not only those of this repository.
SYSTEM_DIRS = {"bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "dev", "proc", "sys", "run",
               "var", "tmp"}


def default_hide() -> list[Path]:
    """Paths hidden from the command: every top-level folder but the system ones (``SYSTEM_DIRS``:
    this hides /work, /srv, /opt, /mnt, /home, /root, ... wherever checkouts or gradebooks live), the
    folder holding the repository (solutions, hidden cases, build, .git, gradebooks, and any sibling
    checkout or grading folder), the repository and the grader's home. Anything the command needs
    from them is listed in ``default_expose``."""
    holder = REPO.parent if REPO.parent != Path("/") else REPO
    top = sorted(p for p in Path("/").iterdir()
                 if p.name not in SYSTEM_DIRS and p.is_dir() and not p.is_symlink())
    return [p for p in dict.fromkeys([*top, holder, REPO, Path.home(), Path("/home")]) if p != Path("/")]


def default_expose() -> list[Path]:
    """Read-only paths the command needs: the virtual environment, the Python it points to, the
    course library, and the kernel-side capture code (which decides nothing)."""
    python_home = Path(sys.base_prefix).resolve()
    # A symlinked environment (``.venv -> /elsewhere/venv``) is exposed where it really lives too:
    # binding the link alone leaves its target hidden, and nothing can start.
    paths = [Path(sys.prefix), Path(sys.prefix).resolve(), python_home, REPO / "utils"]
    from .paths import KERNEL_SIDE

    paths += [REPO / "autograder" / name for name in KERNEL_SIDE]
    return list(dict.fromkeys(p for p in paths if p.exists()))


def prepare_workdir(files: dict, base: Path | None = None, prefix: str = "sandbox-") -> Path:
    """A fresh private directory holding only ``files``: ``{relative path: bytes | source Path}``.

    Sources are copied (a directory recursively, symlinks resolved into copies); relative paths
    that are absolute or climb out with ``..`` are refused with ``ValueError``.
    """
    workdir = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    for rel, content in files.items():
        rel = Path(rel)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            shutil.rmtree(workdir, ignore_errors=True)
            raise ValueError(f"working-copy path {str(rel)!r} must be relative and stay inside")
        target = workdir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, (bytes, bytearray)):
            target.write_bytes(content)
        elif Path(content).is_dir():
            shutil.copytree(content, target, symlinks=False)
        else:
            shutil.copyfile(content, target)
    return workdir


def read_output_file(workdir: Path, relative: str | Path, max_bytes: int = 64 * MB) -> bytes:
    """Read a file the sandboxed command left in ``workdir`` (a capture, an executed notebook) safely.

    The command controlled that directory: refuse a path that resolves outside it (a symlink to
    ``/etc/shadow`` or to the solutions), anything but a regular file with a single link, and more
    than ``max_bytes``. Raises ``ValueError`` with the reason; call it after the run has ended.
    """
    root = os.path.realpath(workdir)
    path = os.path.join(root, relative)
    real = os.path.realpath(path)
    if not real.startswith(root.rstrip("/") + "/"):
        raise ValueError(f"{relative}: resolves outside the working directory ({real})")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise ValueError(f"{relative}: cannot be opened ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
            raise ValueError(f"{relative}: not a plain file (mode {oct(info.st_mode)}, {info.st_nlink} links)")
        if info.st_size > max_bytes:
            raise ValueError(f"{relative}: {info.st_size} bytes, over the limit of {max_bytes}")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(f"{relative}: over the limit of {max_bytes} bytes")
    return data


PRIVATE_DIRS = {"HOME": "home", "TMPDIR": "tmp", "JUPYTER_RUNTIME_DIR": "jupyter-runtime",
                "JUPYTER_CONFIG_DIR": "jupyter-config", "IPYTHONDIR": "ipython", "MPLCONFIGDIR": "matplotlib",
                "XDG_CACHE_HOME": "cache", "XDG_CONFIG_HOME": "config", "XDG_RUNTIME_DIR": "runtime"}


def sandbox_env(workdir: Path, env: dict | None) -> dict:
    """The command's whole environment: nothing inherited from the grader but ``PATH`` entries for
    the interpreter; home, temporary, Jupyter, IPython, matplotlib and cache dirs inside ``workdir``
    (``PRIVATE_DIRS``: always these, whatever ``env`` says, e.g. a copy of the grader's ``os.environ``)."""
    private = Path(workdir) / ".sandbox"
    base = {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(private / "home"),
        "TMPDIR": str(private / "tmp"),
        "JUPYTER_RUNTIME_DIR": str(private / "jupyter-runtime"),
        "JUPYTER_CONFIG_DIR": str(private / "jupyter-config"),
        "IPYTHONDIR": str(private / "ipython"),
        "MPLCONFIGDIR": str(private / "matplotlib"),
        "XDG_CACHE_HOME": str(private / "cache"),
        "XDG_CONFIG_HOME": str(private / "config"),
        "XDG_RUNTIME_DIR": str(private / "runtime"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
    }
    base.update({k: str(v) for k, v in (env or {}).items() if k not in PRIVATE_DIRS})
    return base


# ---------------------------------------------------------------- the parent side


def _real_root() -> bool:
    """Root of the initial user namespace (a rootless container's "root" cannot drop to nobody)."""
    try:
        with open("/proc/self/uid_map") as handle:
            full_map = handle.read().split() == ["0", "0", "4294967295"]
    except OSError:
        full_map = False
    return os.geteuid() == 0 and full_map


def _userns_available() -> bool:
    if not hasattr(_userns_available, "cached"):
        try:
            probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "--net", "--pid", "--fork",
                                    "true"], capture_output=True, timeout=10)
            _userns_available.cached = probe.returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            _userns_available.cached = False
    return _userns_available.cached


CGROUP_PREFIX = "recurrent-sandbox-"


def _remove_stale_cgroups(root: Path, min_age_s: float = 120.0) -> None:
    """Remove empty cgroups left by a grader that was killed before cleaning up. The kernel refuses
    to remove a cgroup that still has processes; the age guard spares one created an instant ago."""
    try:
        entries = [p for p in root.iterdir() if p.name.startswith(CGROUP_PREFIX)]
    except OSError:
        return
    for path in entries:
        try:
            if time.time() - path.stat().st_mtime > min_age_s and not (path / "cgroup.procs").read_text().strip():
                path.rmdir()
        except OSError:
            continue


class _Cgroups:
    """One private cgroup v1 per run in the memory, pids and cpuacct hierarchies (when writable)."""

    def __init__(self, limits: Limits, enabled: bool):
        self.dirs: dict[str, Path] = {}
        self.problems: list[str] = []
        if not enabled:
            return
        name = f"{CGROUP_PREFIX}{uuid.uuid4().hex[:12]}"
        for controller in ("memory", "pids", "cpuacct"):
            root = CGROUP_V1 / controller
            if not (root / "cgroup.procs").exists() or not os.access(root, os.W_OK):
                self.problems.append(f"no writable cgroup v1 '{controller}' controller")
                continue
            _remove_stale_cgroups(root)
            try:
                path = root / name
                path.mkdir()
                self.dirs[controller] = path
                if controller == "memory" and limits.memory_mb:
                    value = str(limits.memory_mb * MB)
                    (path / "memory.limit_in_bytes").write_text(value)
                    if (path / "memory.memsw.limit_in_bytes").exists():
                        try:
                            (path / "memory.memsw.limit_in_bytes").write_text(value)
                        except OSError:
                            pass  # no swap accounting: nothing to swap to is fine
                if controller == "pids" and limits.max_processes:
                    (path / "pids.max").write_text(str(limits.max_processes))
            except OSError as exc:
                self.problems.append(f"cgroup '{controller}' unusable: {exc}")
                self.dirs.pop(controller, None)

    def procs_files(self) -> list[str]:
        return [str(path / "cgroup.procs") for path in self.dirs.values()]

    def _read(self, controller: str, name: str) -> str:
        try:
            return (self.dirs[controller] / name).read_text()
        except (KeyError, OSError):
            return ""

    def cpu_s(self) -> float | None:
        text = self._read("cpuacct", "cpuacct.usage").strip()
        return int(text) / 1e9 if text else None

    def peak_mb(self) -> float | None:
        text = self._read("memory", "memory.max_usage_in_bytes").strip()
        return int(text) / MB if text else None

    def oom_kills(self) -> int:
        for line in self._read("memory", "memory.oom_control").splitlines():
            if line.startswith("oom_kill "):
                return int(line.split()[1])
        return 0

    def memory_failures(self) -> int:
        text = self._read("memory", "memory.failcnt").strip()
        return int(text) if text else 0

    def pids_refused(self) -> int:
        for line in self._read("pids", "pids.events").splitlines():
            if line.startswith("max "):
                return int(line.split()[1])
        return 0

    def kill_all_and_remove(self) -> None:
        """SIGKILL whatever is still in the cgroups (stragglers), then remove them."""
        deadline = time.monotonic() + 5
        for path in self.dirs.values():
            while True:
                try:
                    pids = [int(p) for p in (path / "cgroup.procs").read_text().split()]
                except OSError:
                    pids = []
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                try:
                    path.rmdir()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.02)


class _Stream(threading.Thread):
    """Drain one pipe without ever holding more than head + tail; count every byte."""

    def __init__(self, fd: int, keep: int, on_byte_count):
        super().__init__(daemon=True)
        self.fd, self.keep, self.on_byte_count = fd, keep, on_byte_count
        self.head = bytearray()
        self.tail: deque[bytes] = deque()
        self.tail_size = 0
        self.total = 0

    def run(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            self.total += len(chunk)
            room = self.keep - len(self.head)
            if room > 0:
                self.head += chunk[:room]
                chunk = chunk[room:]
            if chunk:
                self.tail.append(chunk)
                self.tail_size += len(chunk)
                while self.tail_size - len(self.tail[0]) >= self.keep:
                    self.tail_size -= len(self.tail.popleft())
            self.on_byte_count()
        os.close(self.fd)

    def text(self) -> str:
        tail = b"".join(self.tail)[-self.keep:] if self.tail else b""
        omitted = self.total - len(self.head) - len(tail)
        middle = f"\n[... {omitted} bytes not kept ...]\n".encode() if omitted > 0 else b""
        return (bytes(self.head) + middle + tail).decode("utf-8", "replace")


def _tree(pid: int, seen: dict) -> None:
    """Add ``pid`` and its descendants to ``seen`` ({pid: create_time}), for runs without a PID namespace."""
    try:
        import psutil

        root = psutil.Process(pid)
        for proc in [root, *root.children(recursive=True)]:
            seen.setdefault(proc.pid, proc.create_time())
    except Exception:  # gone already, or psutil missing
        pass


def _tree_usage(seen: dict) -> tuple[float, float]:
    """CPU seconds and resident MB summed over the live processes of ``seen``."""
    cpu = rss = 0.0
    try:
        import psutil
    except ImportError:
        return cpu, rss
    for pid, created in list(seen.items()):
        try:
            proc = psutil.Process(pid)
            if proc.create_time() != created:
                continue
            times = proc.cpu_times()
            cpu += times.user + times.system
            rss += proc.memory_info().rss / MB
        except Exception:
            continue
    return cpu, rss


def _kill_seen(seen: dict) -> None:
    try:
        import psutil
    except ImportError:
        return
    for pid, created in seen.items():
        try:
            proc = psutil.Process(pid)
            if proc.create_time() == created:
                proc.kill()
        except Exception:
            continue


class _Watchdog:
    """Polls the running command; ``run`` returns ``(status, reason)`` of the first limit hit, or None."""

    def __init__(self, limits: Limits, cgroups: _Cgroups, workdir: Path, pid: int, need_tree: bool,
                 over_output: threading.Event, start: float):
        self.limits, self.cgroups, self.workdir, self.pid = limits, cgroups, workdir, pid
        self.need_tree, self.over_output, self.start = need_tree, over_output, start
        self.track_all = need_tree and not cgroups.dirs  # no PID namespace nor cgroup: find every process
        self.seen: dict = {}  # processes of the tree (only polled without cgroups)
        self.cpu_polled = self.rss_peak = 0.0
        self.next_disk = start + limits.disk_check_s
        self.next_tree = start

    def run(self, proc: subprocess.Popen) -> tuple[str, str] | None:
        while True:
            try:
                proc.wait(timeout=self.limits.poll_s)
                return None
            except subprocess.TimeoutExpired:
                pass
            verdict = self.check(time.monotonic())
            if verdict:
                return verdict

    def after_exit(self) -> tuple[str, str] | None:
        """Limits that a command can exceed between two polls and still exit: output, disk."""
        if self.over_output.is_set():
            return "output_limit", f"printed more than {self.limits.max_output_bytes} bytes of output"
        if self.limits.disk_mb and _dir_size_mb(self.workdir) > self.limits.disk_mb:
            return "output_limit", (f"wrote more than {self.limits.disk_mb} MB (or too many files) "
                                    "into its working directory")
        return None

    def check(self, now: float) -> tuple[str, str] | None:
        limits = self.limits
        rss = 0.0
        if self.need_tree and now >= self.next_tree:  # psutil walks /proc: not every poll
            self.next_tree = now + (limits.poll_s if self.track_all else max(limits.poll_s, 0.2))
            _tree(self.pid, self.seen)
            self.cpu_polled, rss = _tree_usage(self.seen)
            self.rss_peak = max(self.rss_peak, rss)
        cpu = self.cgroups.cpu_s()
        cpu = self.cpu_polled if cpu is None else cpu
        if limits.memory_mb and "memory" not in self.cgroups.dirs and rss > limits.memory_mb:
            return "memory", f"used more than the memory limit of {limits.memory_mb} MB ({rss:.0f} MB resident)"
        if limits.wall_s and now - self.start > limits.wall_s:
            return "timeout", (f"still running after the time limit of {limits.wall_s:g} s (wall clock); "
                               "an infinite loop or a very slow cell?")
        if limits.cpu_s and cpu > limits.cpu_s:
            return "cpu_limit", f"used more than the CPU-time limit of {limits.cpu_s:g} s"
        if self.over_output.is_set():
            return "output_limit", f"printed more than {limits.max_output_bytes} bytes of output"
        if limits.disk_mb and now >= self.next_disk:
            self.next_disk = now + limits.disk_check_s
            if _dir_size_mb(self.workdir) > limits.disk_mb:
                return "output_limit", (f"wrote more than {limits.disk_mb} MB (or too many files) "
                                        "into its working directory")
        return None


def _dir_size_mb(path: Path, max_entries: int = 20000) -> float:
    """Size of a directory tree; a tree with more than ``max_entries`` entries counts as infinite."""
    total, count, stack = 0, 0, [str(path)]
    while stack:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    count += 1
                    if count > max_entries:
                        return float("inf")
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                        else:
                            total += entry.stat(follow_symlinks=False).st_blocks * 512
                    except OSError:
                        continue
        except OSError:
            continue
    return total / MB


def _chown_tree(path: Path, uid: int, gid: int) -> None:
    os.chown(path, uid, gid, follow_symlinks=False)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(root, name), uid, gid, follow_symlinks=False)


def _rlimits(limits: Limits, with_cgroup_memory: bool, with_cgroup_pids: bool) -> dict:
    out = {"CORE": 0, "NOFILE": limits.open_files}
    if limits.cpu_s:
        out["CPU"] = int(limits.cpu_s) + 2  # backstop per process; the watchdog sums all processes
    if limits.max_file_mb:
        out["FSIZE"] = limits.max_file_mb * MB
    if limits.memory_mb and not with_cgroup_memory:
        out["AS"] = (limits.memory_mb + limits.address_space_slack_mb) * MB
    if limits.max_processes and not with_cgroup_pids:
        out["NPROC"] = limits.max_processes  # per user: shared with the user's other processes
    return out


def run_sandboxed(argv: list[str], workdir: Path, limits: Limits | None = None, env: dict | None = None,
                  hide: list[Path] | None = None, expose: list[Path] | None = None, readonly: bool = True,
                  isolate: bool = True, uid: int = NOBODY, gid: int = NOBODY,
                  cwd: Path | None = None) -> SandboxResult:
    """Run ``argv`` in ``workdir`` in isolation under ``limits``; see the module docstring.

    ``cwd`` (default ``workdir``) is where the command starts. ``env`` is added to ``sandbox_env`` (nothing else of the grader's environment is passed).
    ``hide``/``expose`` default to ``default_hide()``/``default_expose()``; ``workdir`` and its
    contents are given to ``uid`` (root mode). ``readonly`` remounts all but ``workdir`` and the
    scratch dirs read-only. ``isolate=False`` keeps only limits and kills (e.g. trusted tools).
    Never raises for anything the command does; a broken sandbox is status ``sandbox_error``
    (the grader's problem: retry or fix, do not score it as the student's zero).

    Statuses: ``ok`` (exit 0), ``error`` (non-zero exit, or the command could not start),
    ``timeout`` (wall clock), ``cpu_limit``, ``memory`` (OOM kill, MemoryError, or the polled
    limit), ``output_limit`` (stdout+stderr, working-directory size, or a single file),
    ``killed`` (another signal), ``sandbox_error``. ``reason`` is one sentence for people.
    """
    limits = limits or Limits()
    workdir = Path(workdir).resolve()
    hide = [Path(p) for p in (default_hide() if hide is None else hide)]
    expose = [Path(p) for p in (default_expose() if expose is None else expose)]
    if not isolate:
        mode = "none"
    elif _real_root():
        mode = "root"
    else:
        mode = "userns" if _userns_available() else "none"
    isolation = Isolation(mode=mode)
    if not isolate:
        isolation.not_enforced.append("isolation turned off by the caller (isolate=False)")
    elif mode == "none":
        isolation.not_enforced.append("not root and no user namespaces: no hidden paths, no network isolation, "
                                      "no read-only filesystem, no user drop (run the grader as root)")
    if mode == "userns":
        isolation.not_enforced.append("not root: the command runs as the grader's own uid (no drop to nobody); "
                                      "files outside the hidden paths are protected only by the read-only remount")
    start = time.monotonic()
    real_root = _real_root()
    cgroups = _Cgroups(limits, enabled=real_root)  # also without namespaces: pids, memory, stragglers
    if real_root:
        isolation.not_enforced += cgroups.problems
    elif limits.memory_mb or limits.max_processes:
        isolation.not_enforced.append("no cgroups without root: memory is an address-space limit per process "
                                      "plus polling; processes are capped per user (RLIMIT_NPROC)")
    if limits.max_processes and "pids" not in cgroups.dirs and os.getuid() == 0 and mode != "root":
        isolation.not_enforced.append("no process limit: RLIMIT_NPROC does not apply to uid 0 and there is no "
                                      "pids cgroup (a fork bomb is stopped only by the time limit)")
    isolation.cgroups = sorted(cgroups.dirs)
    rl = _rlimits(limits, "memory" in cgroups.dirs, "pids" in cgroups.dirs)
    isolation.rlimits = dict(rl)
    full_env = sandbox_env(workdir, env)
    try:
        for key in PRIVATE_DIRS:
            Path(full_env[key]).mkdir(parents=True, exist_ok=True, mode=0o700)
        if mode == "root":
            _chown_tree(workdir, uid, gid)
            os.chmod(workdir, 0o700)
    except OSError as exc:
        cgroups.kill_all_and_remove()
        return _failed(f"could not prepare the working directory: {exc}", isolation, start)

    spec = {"version": SOURCE_DIGEST, "argv": [str(a) for a in argv], "workdir": str(workdir),
            "cwd": str(Path(cwd or workdir).resolve()), "env": full_env, "rlimits": rl,
            "namespaces": mode != "none", "drop": mode == "root", "uid": uid, "gid": gid,
            "hide": [str(p) for p in hide], "expose": [str(p) for p in expose], "readonly": readonly,
            "scratch_mb": limits.scratch_mb, "cgroup_procs": cgroups.procs_files()}
    try:
        return _run(spec, mode, limits, cgroups, workdir, isolation, start)
    except Exception as exc:  # a bug here must not stop a batch: it is the grader's error, said so
        _kill_all_quietly(cgroups)
        return _failed(f"sandbox failure (grader problem): {type(exc).__name__}: {exc}", isolation, start)


def _kill_all_quietly(cgroups: _Cgroups) -> None:
    try:
        cgroups.kill_all_and_remove()
    except Exception:
        pass


def _run(spec: dict, mode: str, limits: Limits, cgroups: _Cgroups, workdir: Path, isolation: Isolation,
         start: float) -> SandboxResult:
    """Start the inner step under ``unshare`` (per ``mode``), watch it, kill it, collect the result."""
    status_r, status_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    spec_r, spec_w = os.pipe()  # the spec goes through a pipe: no argv size limit, not in /proc/1/cmdline
    life_r, life_w = os.pipe()  # held open by this process only: EOF tells the inner step the grader died
    inner = [sys.executable, "-I", "-S", str(Path(__file__).resolve()), "--inner", str(status_w), str(spec_r),
             str(life_r)]
    if mode == "root":
        prefix = ["unshare", "--mount", "--net", "--pid", "--ipc", "--uts", "--fork", "--kill-child"]
    elif mode == "userns":
        prefix = ["unshare", "--user", "--map-root-user", "--mount", "--net", "--pid", "--ipc", "--uts", "--fork",
                  "--kill-child"]
    else:
        prefix = []
    over_output = threading.Event()

    def count_output():
        if limits.max_output_bytes and streams[0].total + streams[1].total > limits.max_output_bytes:
            if not over_output.is_set():
                over_output.set()
                _kill_group(proc.pid)  # now, not at the next poll: a fast writer is done in milliseconds

    streams = [_Stream(out_r, limits.keep_output_bytes, count_output),
               _Stream(err_r, limits.keep_output_bytes, count_output)]
    try:
        proc = subprocess.Popen(prefix + inner, cwd="/", env={"PATH": "/usr/bin:/bin"}, stdin=subprocess.DEVNULL,
                                stdout=out_w, stderr=err_w, pass_fds=(status_w, spec_r, life_r),
                                start_new_session=True)
    except OSError as exc:
        for fd in (status_r, status_w, out_r, out_w, err_r, err_w, spec_r, spec_w, life_r, life_w):
            os.close(fd)
        cgroups.kill_all_and_remove()
        return _failed(f"could not start the sandbox: {exc}", isolation, start)
    for fd in (status_w, out_w, err_w, spec_r, life_r):
        os.close(fd)
    try:
        with os.fdopen(spec_w, "wb") as pipe:
            pipe.write(json.dumps(spec).encode())
    except OSError:
        pass  # the inner step died at once; its exit status tells
    for stream in streams:
        stream.start()
    messages: list[dict] = []
    reader = threading.Thread(target=_read_messages, args=(status_r, messages), daemon=True)
    reader.start()

    watch = _Watchdog(limits, cgroups, workdir, proc.pid, need_tree=mode == "none" or not
                      {"cpuacct", "memory"} <= set(cgroups.dirs), over_output=over_output, start=start)
    killed_for = watch.run(proc) or watch.after_exit()
    seen = watch.seen
    cpu_polled, rss_polled_peak = watch.cpu_polled, watch.rss_peak
    lifeline_open = True
    if killed_for or proc.poll() is None:
        if mode == "none":  # the inner step, a subreaper, knows every descendant: let it kill them first
            os.close(life_w)
            lifeline_open = False
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
        _kill_group(proc.pid)
        _kill_seen(seen)
    proc.wait()
    if lifeline_open:
        os.close(life_w)
    if mode == "none":  # no PID namespace: stragglers (daemons, kernels) die here
        _kill_group(proc.pid)
        _kill_seen(seen)
    wall = time.monotonic() - start
    cgroup_cpu, cgroup_peak = cgroups.cpu_s(), cgroups.peak_mb()
    oom_kills, mem_failures, pids_refused = cgroups.oom_kills(), cgroups.memory_failures(), cgroups.pids_refused()
    cgroups.kill_all_and_remove()
    for stream in streams:
        stream.join(timeout=5)
    reader.join(timeout=5)

    setup = next((m for m in messages if m.get("event") == "setup"), {})
    for key in ("user", "network", "pid_namespace", "hidden", "exposed", "readonly_root", "scratch"):
        if key in setup:
            setattr(isolation, key, setup[key])
    isolation.not_enforced += setup.get("not_enforced", [])
    exited = next((m for m in messages if m.get("event") == "exit"), None)
    failure = next((m for m in messages if m.get("event") in ("setup_error", "exec_error")), None)
    returncode = exited["returncode"] if exited else (None if failure else proc.returncode)
    rusage_cpu = exited.get("cpu_s", 0.0) if exited else 0.0
    cpu_s = cgroup_cpu if cgroup_cpu is not None else max(rusage_cpu, cpu_polled)
    peak = cgroup_peak if cgroup_peak is not None else max(exited.get("maxrss_mb", 0.0) if exited else 0.0,
                                                           rss_polled_peak)
    stdout, stderr = streams[0].text(), streams[1].text()
    status, reason = _classify(killed_for, failure, returncode, stderr, oom_kills, mem_failures, pids_refused,
                               limits, cpu_s)
    return SandboxResult(status, reason, returncode, round(wall, 3), round(cpu_s, 3), round(peak, 1), stdout,
                         stderr, streams[0].total, streams[1].total, isolation)


def _read_messages(fd: int, messages: list) -> None:
    with os.fdopen(fd, "rb") as pipe:
        for line in pipe:
            try:
                messages.append(json.loads(line))
            except ValueError:
                continue


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _failed(reason: str, isolation: Isolation, start: float) -> SandboxResult:
    return SandboxResult("sandbox_error", reason, None, round(time.monotonic() - start, 3), 0.0, 0.0, "", "", 0, 0,
                         isolation)


def _classify(killed_for, failure, returncode, stderr, oom_kills, mem_failures, pids_refused, limits,
              cpu_s) -> tuple[str, str]:
    """Status and reason, most specific cause first."""
    procs = (f" (it also tried to start more than {limits.max_processes} processes/threads at once)"
             if pids_refused else "")
    if killed_for:
        return killed_for[0], killed_for[1] + procs
    if failure and failure["event"] == "setup_error":
        return "sandbox_error", f"sandbox set-up failed (grader problem, not the submission's): {failure['error']}"
    if failure:
        return "error", f"could not start the command: {failure['error']}"
    memory_text = f"{limits.memory_mb} MB" if limits.memory_mb else "the machine's memory"
    if oom_kills:
        return "memory", (f"a process was killed for using more than the memory limit of {memory_text} "
                          f"({oom_kills} out-of-memory kill{'s' if oom_kills > 1 else ''})")
    if returncode is None:
        return "killed", "the sandbox ended without reporting an exit status"
    if returncode < 0:
        sig = -returncode
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        if sig == signal.SIGXCPU or (limits.cpu_s and cpu_s >= limits.cpu_s):
            return "cpu_limit", f"killed after the CPU-time limit of {limits.cpu_s:g} s of one process ({name})"
        if sig == signal.SIGXFSZ:
            return "output_limit", f"killed for writing a file larger than {limits.max_file_mb} MB ({name})"
        if sig == signal.SIGKILL and mem_failures:
            return "memory", f"killed while at the memory limit of {memory_text}"
        return "killed", f"killed by signal {name}" + procs
    tail = stderr[-4000:]
    if returncode != 0 and ("File too large" in tail or "EFBIG" in tail):
        return "output_limit", (f"could not write a file larger than {limits.max_file_mb} MB "
                                f"and exited with code {returncode}")
    if returncode != 0 and "MemoryError" in tail:
        return "memory", f"ran out of memory (MemoryError; limit {memory_text}) and exited with code {returncode}"
    if returncode != 0:
        return "error", f"exited with code {returncode}" + procs
    return "ok", "finished normally"


# ---------------------------------------------------------------- compatibility with the grading draft


@dataclass
class RunResult:
    """What ``run_limited`` returns (the first grading draft's interface)."""

    returncode: int | None
    timed_out: bool
    seconds: float
    output: str  # stdout and stderr, last part only
    sandbox: SandboxResult | None = None


def run_limited(cmd: list[str], cwd: Path, env: dict, limits: Limits, log_path: Path | None = None,
                isolate: bool = False, **sandbox_options) -> RunResult:
    """``run_sandboxed`` with the draft's signature: output also written to ``log_path``.

    ``isolate=False`` (the default here) applies limits and kills only, with the caller's full
    ``env``; pass ``isolate=True`` and ``expose=[...]`` to get the full sandbox.
    """
    run_env = dict(env) if not isolate else env
    sandbox_options.setdefault("cwd", Path(cwd))
    workdir = sandbox_options.pop("workdir", Path(cwd))
    result = run_sandboxed(cmd, workdir, limits, run_env, isolate=isolate, **sandbox_options)
    output = result.stdout + result.stderr
    if result.status not in ("ok", "error") or result.returncode is None or "could not start" in result.reason:
        output += f"\n[sandbox] {result.status}: {result.reason}"
    if log_path is not None:
        Path(log_path).write_text(output + f"\n[sandbox] {result.status}: {result.reason}\n")
    timed_out = result.status == "timeout"
    return RunResult(None if timed_out else result.returncode, timed_out, result.wall_s, output[-20000:], result)


def kill_group(pgid: int) -> None:
    """SIGKILL every process of the group; ignore if already gone."""
    _kill_group(pgid)


# ---------------------------------------------------------------- the inner side (runs as a script)
# Kept to the standard library: it runs as ``python -I -S sandbox.py --inner FD SPEC`` inside the
# new namespaces, as root, before anything is hidden.

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 1024, 2048, 1 << 21
_OPTION_FLAGS = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC, "noatime": MS_NOATIME,
                 "nodiratime": MS_NODIRATIME, "relatime": MS_RELATIME}


def _mount(source, target, fstype, flags, data=None) -> None:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    enc = (lambda s: None if s is None else str(s).encode())
    if libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source or ''} on {target}: {os.strerror(err)}")


def _mount_table() -> list[tuple[str, int]]:
    """(mount point, per-mount flags to keep) for every mount, from /proc/self/mountinfo."""
    out = []
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            fields = line.split()
            point = fields[4].encode().decode("unicode_escape")
            flags = 0
            for option in fields[5].split(","):
                flags |= _OPTION_FLAGS.get(option, 0)
            out.append((point, flags))
    return out


def _remount_readonly(point: str, table: dict) -> None:
    _mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | table.get(point, 0))


def _under(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def _bring_loopback_up() -> None:
    import fcntl
    import socket
    import struct

    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(sock, siocgifflags, request))[1]
        fcntl.ioctl(sock, siocsifflags, struct.pack("16sH14x", b"lo", flags | iff_up))


def _mkdirs(path: str) -> None:
    os.makedirs(path, mode=0o755, exist_ok=True)


def _mountpoint_like(fd: int, target: str) -> None:
    """Create ``target`` as a directory or an empty file, like what ``fd`` refers to."""
    import stat

    if os.path.lexists(target):
        return
    _mkdirs(os.path.dirname(target))
    if stat.S_ISDIR(os.fstat(fd).st_mode):
        _mkdirs(target)
    else:
        with open(target, "w"):
            pass


def _workdir_covers(workdir: str) -> set[str]:
    """Directories to cover with an empty tmpfs before the working directory is bound back: its
    parent (siblings are other students' copies) and every ancestor others cannot traverse."""
    covers = set()
    parent = os.path.dirname(workdir)
    if parent != "/":
        covers.add(parent)
    while parent != "/":
        try:
            if not os.stat(parent).st_mode & 0o001:
                covers.add(parent)
        except OSError:
            pass
        parent = os.path.dirname(parent)
    return covers


def _setup_namespaces(spec: dict, report: dict) -> None:
    """Mounts, network: everything that needs root inside the new namespaces."""
    workdir = spec["workdir"]
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    # Everything that will be bound back is opened first: hiding a parent must not lose it.
    work_fd = os.open(workdir, os.O_PATH | os.O_DIRECTORY)
    exposed = []
    for path in sorted(spec["expose"], key=lambda p: p.count("/")):
        try:
            exposed.append((os.path.realpath(path), os.open(path, os.O_PATH)))
        except OSError:
            report["not_enforced"].append(f"expose: {path} does not exist")
    present = {os.path.realpath(p) for p in spec["hide"] if os.path.lexists(p)}
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    tmpfs_size = f"size={spec['scratch_mb']}m"
    for scratch in SCRATCH_DIRS:
        if os.path.isdir(scratch) and not os.path.islink(scratch):
            _mount("tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,{tmpfs_size}")
            report["scratch"].append(scratch)
    covers = _workdir_covers(workdir)
    for path in sorted(set(spec["hide"]) | covers, key=lambda p: p.count("/")):
        real = os.path.realpath(path)
        if not os.path.lexists(real):  # absent, or already under a scratch or hiding tmpfs
            if path in spec["hide"] and real in present:
                report["hidden"].append(real)
            continue
        if os.path.isdir(real):
            _mount("tmpfs", real, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=1m")
        else:
            _mount("/dev/null", real, None, MS_BIND)
        if path in spec["hide"]:
            report["hidden"].append(real)
    for real, fd in exposed:
        if any(_under(real, h) for h in report["hidden"] + list(covers) + report["scratch"]):
            _mountpoint_like(fd, real)
            _mount(f"/proc/self/fd/{fd}", real, None, MS_BIND | MS_REC)
        report["exposed"].append(real)
    _mkdirs(workdir)
    _mount(f"/proc/self/fd/{work_fd}", workdir, None, MS_BIND | MS_REC)
    table = dict(_mount_table())
    keep_writable = [workdir, "/proc"] + report["scratch"]
    must_be_readonly = report["hidden"] + report["exposed"] + list(covers)
    for point in sorted(table):
        wanted = spec["readonly"] or any(_under(point, p) for p in must_be_readonly)
        if not wanted or any(_under(point, p) for p in keep_writable) or point.startswith("/dev/pts"):
            continue
        if not os.path.lexists(point):
            continue  # shadowed by a hiding tmpfs: nothing can reach it
        try:
            _remount_readonly(point, table)
        except OSError as exc:
            if any(_under(point, p) for p in must_be_readonly):
                raise
            report["not_enforced"].append(f"read-only remount of {point} failed: {exc.strerror}")
    report["readonly_root"] = bool(spec["readonly"]) and not any(
        line.startswith("read-only remount of / failed") for line in report["not_enforced"])
    _bring_loopback_up()
    report["network"] = True
    report["pid_namespace"] = True


def _apply_rlimits(rlimits: dict) -> None:
    for name, value in rlimits.items():
        which = getattr(resource, f"RLIMIT_{name}")
        soft = value
        hard = value + 3 if name == "CPU" else value  # SIGXCPU first, SIGKILL a moment later
        resource.setrlimit(which, (soft, hard))


def _die_with_the_grader(life_fd: int, namespaces: bool) -> None:
    """Block on the lifeline; at EOF (the grader exited or was killed, its watchdog with it) kill
    the command: PID 1 exiting ends the namespace, else SIGKILL our own process group."""
    while True:
        try:
            if not os.read(life_fd, 1):
                break
        except InterruptedError:
            continue
        except OSError:
            break
    if not namespaces:
        _kill_descendants()
    os._exit(137)


def _descendants(root: int) -> list[int]:
    """Every process below ``root``, from /proc (the inner step is a subreaper: orphans stay below it)."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as handle:
                    ppid = int(handle.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(name))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _kill_descendants(limit_s: float = 5.0) -> None:
    """SIGKILL and reap every descendant, again and again until none is left (a fork bomb races us)."""
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        pids = _descendants(os.getpid())
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            return
        if not pids:
            time.sleep(0.01)


def _inner_main(status_fd: int, spec_fd: int, life_fd: int) -> int:
    """Set up, fork the command, reap everything as PID 1, report the command's exit on ``status_fd``."""
    os.set_inheritable(life_fd, False)  # the command must not hold it
    status = os.fdopen(status_fd, "w", buffering=1)
    with os.fdopen(spec_fd, "rb") as pipe:
        spec = json.loads(pipe.read())
    if not spec["namespaces"]:  # no PID namespace: keep orphans below us, to find and kill them
        import ctypes

        ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    threading.Thread(target=_die_with_the_grader, args=(life_fd, spec["namespaces"]), daemon=True).start()

    def send(**message) -> None:
        status.write(json.dumps(message) + "\n")

    report = {"hidden": [], "exposed": [], "scratch": [], "not_enforced": [], "user": None, "network": False,
              "pid_namespace": False, "readonly_root": False}
    try:
        if spec.get("version") != SOURCE_DIGEST:
            raise RuntimeError(f"{__file__} changed on disk since the grader imported it; restart the grader")
        for procs in spec["cgroup_procs"]:
            with open(procs, "w") as handle:
                handle.write(str(os.getpid()))
        if spec["namespaces"]:
            _setup_namespaces(spec, report)
    except Exception as exc:  # refuse to run the command half-isolated
        send(event="setup_error", error=f"{type(exc).__name__}: {exc}")
        return SETUP_FAILED
    if spec["drop"]:
        report["user"] = f"uid {spec['uid']}"
    send(event="setup", **report)
    os.set_inheritable(status_fd, False)
    pid = os.fork()
    if pid == 0:
        try:
            os.chdir(spec["cwd"])
            if spec["drop"]:
                import ctypes

                os.setgroups([])
                os.setresgid(spec["gid"], spec["gid"], spec["gid"])
                os.setresuid(spec["uid"], spec["uid"], spec["uid"])
                ctypes.CDLL(None).prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS: no setuid binaries
            _apply_rlimits(spec["rlimits"])
            for sig in (signal.SIGPIPE, signal.SIGXFSZ):
                signal.signal(sig, signal.SIG_DFL)
            executable = shutil.which(spec["argv"][0], path=spec["env"].get("PATH")) or spec["argv"][0]
            os.execve(executable, spec["argv"], spec["env"])
        except BaseException as exc:
            try:
                send(event="exec_error", error=f"{type(exc).__name__}: {exc}")
            finally:
                os._exit(127)
    # PID 1 of the namespace: reap every orphan until the command itself has exited.
    while True:
        try:
            child, wait_status, usage = os.wait4(-1, 0)
        except ChildProcessError:
            return 127
        except InterruptedError:
            continue
        if child == pid:
            break
    returncode = os.waitstatus_to_exitcode(wait_status)
    if not spec["namespaces"]:
        _kill_descendants()  # what the command left running (a kernel, a daemon)
    send(event="exit", returncode=returncode, cpu_s=usage.ru_utime + usage.ru_stime, maxrss_mb=usage.ru_maxrss / 1024)
    return 0 if returncode == 0 else 1


if __name__ == "__main__" and len(sys.argv) == 5 and sys.argv[1] == "--inner":
    sys.exit(_inner_main(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])))
