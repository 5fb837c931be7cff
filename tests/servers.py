"""Real servers the instructor-side tests start for themselves: a throwaway PostgreSQL cluster and
JupyterHub. Nothing here is mocked: the binaries are Debian's ``postgresql`` and PyPI's
``jupyterhub`` with npm's ``configurable-http-proxy`` (``.ci/run`` installs what is missing).

A server that cannot be found makes only the test that needs it skip, with a message saying what to
install; under ``CI=1`` it fails instead, because CI installs them.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest


def require(what: str, install: str) -> None:
    """Skip (or, in CI, fail) the calling test because ``what`` is missing."""
    message = f"this test needs {what}: {install} (.ci/run installs it)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- PostgreSQL

def postgres_bin() -> Path | None:
    """The folder holding Debian's initdb/pg_ctl (they are not on PATH in the Debian package)."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(versions[-1]).parent if versions else None


class Postgres:
    """A PostgreSQL cluster in ``folder``, listening only on a Unix socket in that folder.

    PostgreSQL refuses to run as root, so as root the cluster is made and run as the ``postgres``
    user Debian's package creates, in a folder of its own under /tmp (pytest's are 0700).
    """

    def __init__(self, folder: Path, database: str = "gradebook"):
        self.bin = postgres_bin()
        if self.bin is None:
            require("a PostgreSQL server", "apt-get install postgresql")
        self.folder, self.database = Path(folder), database
        self.data, self.socket_dir = self.folder / "data", self.folder / "socket"
        self.user = None
        if os.geteuid() == 0:
            try:
                self.user = pwd.getpwnam("postgres")
            except KeyError:
                require("the 'postgres' system user", "apt-get install postgresql")

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.user:  # drop root for PostgreSQL's tools
            command = ["setpriv", f"--reuid={self.user.pw_uid}", f"--regid={self.user.pw_gid}",
                       "--clear-groups", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if check and done.returncode:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done

    def start(self) -> "Postgres":
        if self.user:
            # The postgres user must reach the cluster's folders, and pytest keeps its temporary
            # folders 0700 (re-applied by any other pytest run): use a folder of its own in /tmp.
            self.folder = Path(tempfile.mkdtemp(prefix="recurrent-pg-"))
            self.data, self.socket_dir = self.folder / "data", self.folder / "socket"
        self.socket_dir.mkdir(parents=True)
        if self.user:
            for path in (self.folder, self.socket_dir):
                os.chown(path, self.user.pw_uid, self.user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "grader", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-c listen_addresses='' -c unix_socket_directories={self.socket_dir} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-o", options,
                  "-w", "-t", "60", "start")
        self._run("createdb", "-h", str(self.socket_dir), "-U", "grader", self.database)
        return self

    @property
    def url(self) -> str:
        """A SQLAlchemy URL (psycopg 3) over the Unix socket."""
        return f"postgresql+psycopg://grader@/{self.database}?host={self.socket_dir}"

    def psql(self, sql: str) -> str:
        return self._run("psql", "-h", str(self.socket_dir), "-U", "grader", "-d", self.database,
                         "-At", "-c", sql).stdout

    def stop(self) -> None:
        if self.data.exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop", check=False)
        if self.user:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> "Postgres":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# --------------------------------------------------------------------------- JupyterHub

def proxy_command() -> str | None:
    """configurable-http-proxy, the Node program JupyterHub routes through (npm package)."""
    return shutil.which("configurable-http-proxy")


class Process:
    """A background process in its own process group, its output in ``log``; killed on exit."""

    def __init__(self, command: list[str], log: Path, cwd: Path, env: dict | None = None):
        self.log = log
        self._file = open(log, "wb")
        self.proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=self._file, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, grace: float = 10) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        else:  # the group may still hold children (the proxy, single-user servers)
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._file.close()


def wait_for(predicate, timeout: float, what: str, log: Process | None = None, every: float = 0.5):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001  (not up yet)
            last = exc
        if log is not None and log.proc.poll() is not None:
            raise RuntimeError(f"{what}: the process exited ({log.proc.returncode}):\n{log.text()[-4000:]}")
        time.sleep(every)
    tail = log.text()[-4000:] if log else ""
    raise TimeoutError(f"{what} within {timeout:.0f} s (last error: {last!r})\n{tail}")
