"""autograder.sandbox: every escape or resource attack of tests/adversarial/ is stopped, reported
with the right status, and leaves no process behind; a normal notebook still runs.

As root (course machines, CI) every mechanism is asserted. Without root the same tests run in
the degraded mode and assert that ``isolation.not_enforced`` says what was not enforced; the
assertions that need root are inside ``if ROOT:`` blocks. ``test_degraded_modes_*`` exercise the
non-root modes from a root run by calling the sandbox as ``nobody``.
"""

from __future__ import annotations

import json
import os
import socket
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import nbformat
import psutil
import pytest

from autograder import paths, sandbox
from autograder.sandbox import Limits, prepare_workdir, read_output_file, run_limited, run_sandboxed

REPO = Path(__file__).resolve().parents[1]
ADV = Path(__file__).resolve().parent / "adversarial"
PY = sys.executable
ROOT = sandbox._real_root()
NOT_ROOT = "needs root (user drop, cgroups): this run is not root, so only the isolation report is checked"


def workdir_with(tmp_path: Path, *scripts: str, extra: dict | None = None) -> Path:
    files = {name: ADV / name for name in scripts}
    files.update(extra or {})
    return prepare_workdir(files, base=tmp_path)


def survivors(marker: str) -> list[psutil.Process]:
    """Live processes whose command line mentions ``marker`` (a token or a working directory)."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if marker in cmdline and proc.info["status"] != psutil.STATUS_ZOMBIE and proc.pid != os.getpid():
            found.append(proc)
    return found


def cgroup_dirs() -> list[Path]:
    return [p for c in ("memory", "pids", "cpuacct") for p in (sandbox.CGROUP_V1 / c).glob("recurrent-sandbox-*")]


def notebook(*sources: str) -> bytes:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nbformat.writes(nb).encode()


def run_notebook(tmp_path: Path, nb: bytes, limits: Limits | None = None, cell_timeout: int = 60):
    wd = workdir_with(tmp_path, "execute_notebook.py", extra={"nb.ipynb": nb})
    argv = [PY, "execute_notebook.py", "nb.ipynb", "out.ipynb", str(cell_timeout)]
    return wd, run_sandboxed(argv, wd, limits or Limits())


def probe(result) -> dict:
    assert result.stdout.strip(), f"no output: {result.status} {result.reason}\n{result.stderr}"
    return json.loads(result.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- the working copy and the API


def test_limit_defaults_leave_room_for_a_normal_submission():
    limits = Limits()
    assert limits.wall_s >= 300 and limits.cpu_s >= limits.wall_s
    assert limits.memory_mb >= 2048 and limits.max_processes >= 256
    assert limits.max_output_bytes >= 1_000_000 and limits.disk_mb >= 500


def test_prepare_workdir_holds_only_the_given_files_and_refuses_escapes(tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "data.txt").write_text("d")
    wd = prepare_workdir({"a.txt": b"A", "copied.txt": src / "sub" / "data.txt", "tree": src}, base=tmp_path)
    assert sorted(p.relative_to(wd).as_posix() for p in wd.rglob("*")) == [
        "a.txt", "copied.txt", "tree", "tree/sub", "tree/sub/data.txt"]
    for bad in ("../up.txt", "/etc/passwd", "a/../../b"):
        with pytest.raises(ValueError, match="relative and stay inside"):
            prepare_workdir({bad: b"x"}, base=tmp_path)


def test_a_plain_command_runs_ok_with_a_clean_environment_and_reports_its_isolation(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET_TOKEN", "do-not-leak")
    wd = prepare_workdir({"x.txt": b"x"}, base=tmp_path)
    code = ("import os, json; print(json.dumps({'uid': os.getuid(), 'cwd': os.getcwd(), 'env': dict(os.environ), "
            "'pids': sorted(int(p) for p in os.listdir('/proc') if p.isdigit()), "
            "'fds': os.listdir('/proc/self/fd')}))")
    result = run_sandboxed([PY, "-c", code], wd, env={"EXTRA": "1", "HOME": str(Path.home())})
    assert result.status == "ok", result
    assert result.returncode == 0 and result.reason == "finished normally"
    seen = probe(result)
    assert seen["cwd"] == str(wd)
    assert "GRADER_SECRET_TOKEN" not in seen["env"] and seen["env"]["EXTRA"] == "1"
    assert sorted(seen["fds"]) == ["0", "1", "2", "3"], "stdio and listdir's own: no grader pipe leaks in"
    for key in ("HOME", "TMPDIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "MPLCONFIGDIR", "XDG_CACHE_HOME"):
        assert seen["env"][key].startswith(str(wd)), key
    iso = result.isolation
    if ROOT:
        assert iso.mode == "root" and iso.user == "uid 65534" and seen["uid"] == 65534
        assert iso.network and iso.pid_namespace and iso.readonly_root
        assert str(REPO) in iso.hidden and set(iso.cgroups) == {"memory", "pids", "cpuacct"}
        assert iso.not_enforced == []
        assert len(seen["pids"]) <= 3, "its own PID namespace: only the set-up step and itself"
        assert result.peak_memory_mb > 0 and result.cpu_s > 0
    else:
        assert iso.user is None and any("not root" in line for line in iso.not_enforced), iso


@pytest.mark.stress
def test_a_notebook_executes_in_a_fresh_kernel_inside_the_sandbox(tmp_path):
    nb = notebook("import os, numpy as np\nprint(np.arange(4).sum(), os.getuid())",
                  "import utils.rnn, autograder.kernel\nprint('imports ok')")
    wd, result = run_notebook(tmp_path, nb)
    assert result.status == "ok", f"{result.reason}\n{result.stderr[-2000:]}"
    out = nbformat.read(wd / "out.ipynb", as_version=4)
    texts = ["".join(o.get("text", "") for o in cell.outputs) for cell in out.cells]
    assert texts[0].split()[0] == "6" and texts[1].strip() == "imports ok"
    if ROOT:
        assert texts[0].split()[1] == "65534", "the kernel runs as nobody too"
    assert not survivors(str(wd)), "the kernel is gone with its executor"


def test_a_missing_command_is_an_error_result_not_an_exception(tmp_path):
    wd = prepare_workdir({}, base=tmp_path)
    result = run_sandboxed(["/no/such/program"], wd)
    assert result.status == "error" and "could not start the command" in result.reason


# ---------------------------------------------------------------- time, processes, memory, output


@pytest.mark.stress
@pytest.mark.parametrize("isolate", [True, False], ids=["isolated", "not-isolated"])
def test_signal_ignoring_processes_time_out_and_none_survive(tmp_path, isolate):
    token = f"tok-{uuid.uuid4().hex}"
    wd = workdir_with(tmp_path, "ignore_signals.py")
    start = time.monotonic()
    result = run_sandboxed([PY, "ignore_signals.py", token, "3"], wd, Limits(wall_s=2), isolate=isolate)
    elapsed = time.monotonic() - start
    assert result.status == "timeout" and "time limit of 2 s" in result.reason
    assert "ready" in result.stdout
    assert elapsed < 2 + 1.5, f"killed {elapsed - 2:.1f} s after the limit"
    assert not survivors(token), "children in their own sessions (and their daemons) must die too"


@pytest.mark.parametrize("isolate", [True, False], ids=["isolated", "not-isolated"])
def test_a_daemon_left_behind_by_a_finished_command_is_killed(tmp_path, isolate):
    token = f"tok-{uuid.uuid4().hex}"
    code = ("import os, sys, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
            "        time.sleep(600)\n    os._exit(0)\ntime.sleep(0.3)\nprint('parent done')")
    result = run_sandboxed([PY, "-c", code, token], prepare_workdir({}, base=tmp_path), isolate=isolate)
    assert result.status == "ok" and "parent done" in result.stdout
    assert not survivors(token)


@pytest.mark.stress
@pytest.mark.parametrize("isolate", [True, False], ids=["isolated", "not-isolated"])
def test_killing_the_grader_kills_the_sandbox(tmp_path, isolate):
    """No watchdog left: the sandbox must not outlive the grader (a Ctrl-C'd or OOM-killed batch)."""
    token = f"tok-{uuid.uuid4().hex}"
    wd = workdir_with(tmp_path, "ignore_signals.py")
    code = ("import sys\nfrom autograder.sandbox import Limits, run_sandboxed\n"
            f"run_sandboxed([sys.executable, 'ignore_signals.py', {token!r}, '2'], {str(wd)!r}, Limits(wall_s=120), "
            f"isolate={isolate})\n")
    before = set(cgroup_dirs())
    grader = subprocess.Popen([PY, "-c", code], cwd=REPO)
    deadline = time.monotonic() + 20
    while len(survivors(token)) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(survivors(token)) >= 3, "the stubborn processes should be running by now"
    grader.kill()
    grader.wait()
    deadline = time.monotonic() + 3
    while survivors(token) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not survivors(token), "the sandbox outlived its grader"
    if ROOT:  # its cgroups stay behind (the grader died): the next run removes them once they are stale
        stale = set(cgroup_dirs()) - before
        assert len(stale) == 3, stale
        for path in stale:
            os.utime(path, (time.time() - 3600, time.time() - 3600))
        run_sandboxed([PY, "-c", "pass"], prepare_workdir({}, base=tmp_path))
        assert not any(p.exists() for p in stale)


@pytest.mark.stress
@pytest.mark.parametrize("isolate", [True, False], ids=["isolated", "not-isolated"])
def test_a_fork_bomb_is_capped_and_entirely_killed(tmp_path, isolate):
    probe_run = run_sandboxed([PY, "-c", "pass"], prepare_workdir({}, base=tmp_path), isolate=isolate)
    if "pids" not in probe_run.isolation.cgroups and os.getuid() == 0 and probe_run.isolation.mode != "root":
        # uid 0 without a pids cgroup (e.g. root inside a user namespace): nothing caps processes
        assert any("no process limit" in line for line in probe_run.isolation.not_enforced)
        pytest.skip("uid 0 without a pids cgroup: a real fork bomb would exhaust this shared machine's PIDs")
    token = f"tok-{uuid.uuid4().hex}"
    wd = workdir_with(tmp_path, "fork_bomb.py")
    result = run_sandboxed([PY, "fork_bomb.py", token], wd, Limits(wall_s=3, max_processes=64), isolate=isolate)
    assert result.status == "timeout"
    assert not survivors(token)
    if ROOT:
        assert "more than 64 processes" in result.reason, result.reason
        assert "pids" in result.isolation.cgroups
    else:
        assert any("RLIMIT_NPROC" in line for line in result.isolation.not_enforced)


@pytest.mark.stress
def test_allocating_10_gb_is_status_memory(tmp_path):
    wd = workdir_with(tmp_path, "memory_hog.py")
    result = run_sandboxed([PY, "memory_hog.py", "10"], wd, Limits(memory_mb=512, wall_s=60))
    assert result.status == "memory", f"{result.status}: {result.reason}\n{result.stderr[-1000:]}"
    assert "512 MB" in result.reason
    assert "allocated everything" not in result.stdout
    if ROOT:
        assert "out-of-memory kill" in result.reason and result.peak_memory_mb <= 512 + 1


@pytest.mark.stress
def test_cpu_time_is_summed_over_processes(tmp_path):
    wd = workdir_with(tmp_path, "burn_cpu.py")
    result = run_sandboxed([PY, "burn_cpu.py", "2"], wd, Limits(cpu_s=1.5, wall_s=30))
    assert result.status == "cpu_limit", result.reason
    assert 1.5 <= result.cpu_s < 4 and result.wall_s < 10


def test_100_mb_of_output_is_cut_without_filling_the_graders_memory(tmp_path):
    wd = workdir_with(tmp_path, "flood_output.py")
    code = (
        "import json, re, sys\n"
        "from autograder.sandbox import Limits, run_sandboxed\n"
        f"r = run_sandboxed([sys.executable, 'flood_output.py', '100'], {str(wd)!r}, Limits(max_output_bytes=2_000_000))\n"
        # VmHWM belongs to this process's own address space; ru_maxrss would also count the
        # pre-exec copy of the (large) pytest process that spawned it.
        "hwm_kb = int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n"
        "print(json.dumps({'status': r.status, 'reason': r.reason, 'kept': len(r.stdout), 'total': r.stdout_bytes,\n"
        "  'stderr': r.stderr, 'maxrss_mb': hwm_kb / 1024}))\n")
    grader = subprocess.run([PY, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    report = json.loads(grader.stdout.strip().splitlines()[-1])
    assert report["status"] == "output_limit" and "2000000 bytes" in report["reason"]
    assert 2_000_000 < report["total"] < 100 * 1024 * 1024
    assert report["kept"] < 2 * Limits().keep_output_bytes + 100
    assert "starting the flood" in report["stderr"]
    assert report["maxrss_mb"] < 120, f"the grader grew to {report['maxrss_mb']:.0f} MB"


@pytest.mark.stress
def test_filling_the_working_directory_is_stopped(tmp_path):
    wd = workdir_with(tmp_path, "fill_disk.py")
    result = run_sandboxed([PY, "fill_disk.py", "40", "10"], wd, Limits(disk_mb=50, disk_check_s=0.2))
    assert result.status == "output_limit" and "50 MB" in result.reason
    big = workdir_with(tmp_path, "fill_disk.py")
    result = run_sandboxed([PY, "fill_disk.py", "1", "20"], big, Limits(max_file_mb=5))
    assert result.status == "output_limit" and "larger than 5 MB" in result.reason, result


# ---------------------------------------------------------------- what the student's code can see and touch


@pytest.fixture
def instructor_secret(tmp_path):
    secret_dir = tmp_path / "instructor"
    secret_dir.mkdir()
    (secret_dir / "answers.txt").write_text("the answer is 42")
    return secret_dir


def test_instructor_files_are_hidden(tmp_path, instructor_secret):
    wd = workdir_with(tmp_path, "probe_files.py")
    sibling = prepare_workdir({"notebook.ipynb": b"another student's work"}, base=tmp_path)
    targets = [REPO / "solutions" / "a1" / "a1.ipynb", REPO / "autograder" / "a1" / "cases.py",
               REPO / ".git" / "HEAD", REPO / "README.md", instructor_secret / "answers.txt",
               Path.home() / ".bashrc", sibling / "notebook.ipynb"]
    targets = [t for t in targets if t.exists()]
    hide = sandbox.default_hide() + [instructor_secret]
    result = run_sandboxed([PY, "probe_files.py", "read", *map(str, targets)], wd, hide=hide)
    outcome = probe(result)
    listing = probe(run_sandboxed([PY, "probe_files.py", "list", str(REPO), str(REPO / "autograder")], wd, hide=hide))
    if ROOT or result.isolation.mode == "userns":
        for target in targets:
            assert not outcome[str(target)].startswith("ok"), f"{target} readable: {outcome[str(target)]}"
        visible = listing[str(REPO)].removeprefix("ok:").split(",")
        assert sorted(visible) == [".venv", "autograder", "utils"]
        # exactly the kernel-side files (autograder/paths.py KERNEL_SIDE), no instructor module
        assert listing[str(REPO / "autograder")] == "ok:" + ",".join(sorted(paths.KERNEL_SIDE))
        assert "cases.py" not in paths.KERNEL_SIDE and "spec.py" not in paths.KERNEL_SIDE
        assert str(instructor_secret) in result.isolation.hidden
    else:
        assert "no hidden paths" in " ".join(result.isolation.not_enforced)


@pytest.mark.skipif(not ROOT, reason="creating a folder at the top of the file system needs root")
def test_instructor_files_elsewhere_on_the_machine_are_hidden(tmp_path):
    # Another checkout of the course, a grading folder: anywhere outside the system folders.
    other = Path("/") / f"srv-checkout-{uuid.uuid4().hex[:8]}"
    try:
        (other / "solutions" / "a1").mkdir(parents=True)
        secret = other / "solutions" / "a1" / "a1.ipynb"
        secret.write_text("the solution")
        secret.chmod(0o644)
        for folder in (other, other / "solutions", other / "solutions" / "a1"):
            folder.chmod(0o755)  # world-readable: only the sandbox can keep it out of sight
        assert other in sandbox.default_hide()
        wd = workdir_with(tmp_path, "probe_files.py")
        outcome = probe(run_sandboxed([PY, "probe_files.py", "read", str(secret)], wd))
        assert not outcome[str(secret)].startswith("ok"), outcome
    finally:
        shutil.rmtree(other, ignore_errors=True)


def test_writes_outside_the_working_directory_fail_or_stay_private(tmp_path):
    wd = workdir_with(tmp_path, "probe_files.py")
    sibling = prepare_workdir({}, base=tmp_path)
    name = f"pwned-{uuid.uuid4().hex}"
    outside = [REPO / name, Path.home() / name, Path("/etc") / name, sibling / name, tmp_path / name]
    scratch = [Path("/tmp") / name, Path("/var/tmp") / name, Path("/dev/shm") / name]
    inside = wd / name
    result = run_sandboxed([PY, "probe_files.py", "write", *map(str, outside + scratch + [inside])], wd)
    outcome = probe(result)
    assert outcome[str(inside)] == "ok" and inside.read_text() == "pwned"
    try:
        for path in outside + scratch:
            assert not path.exists(), f"{path} was written from the sandbox"
        if ROOT:
            for path in outside:
                assert outcome[str(path)] != "ok", path
            assert set(result.isolation.scratch) >= {"/tmp", "/var/tmp", "/dev/shm"}
    finally:
        for path in outside + scratch:
            path.unlink(missing_ok=True)


def test_files_left_by_the_command_are_read_without_following_its_links(tmp_path, instructor_secret):
    wd = workdir_with(tmp_path, "plant_links.py")
    secret = instructor_secret / "answers.txt"
    result = run_sandboxed([PY, "plant_links.py", "/etc/shadow", str(secret)], wd)
    planted = probe(result)
    assert read_output_file(wd, "capture/ok.npz") == b"real output"
    for name in ("capture/q0.npz", "capture/q1.npz", "capture/root/etc/passwd"):
        with pytest.raises(ValueError, match="outside the working directory"):
            read_output_file(wd, name)
    if ROOT:
        assert planted["hardlink"] != "ok", "a hard link to a file outside must be impossible"
    os.link(secret, wd / "capture" / "linked.npz")  # as if it had succeeded
    with pytest.raises(ValueError, match="2 links"):
        read_output_file(wd, "capture/linked.npz")
    with pytest.raises(ValueError, match="over the limit"):
        read_output_file(wd, "capture/ok.npz", max_bytes=4)


def test_the_network_is_cut_including_the_graders_loopback(tmp_path):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    accepted = []

    def accept():
        end = time.monotonic() + 15
        while time.monotonic() < end and not accepted:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    wd = workdir_with(tmp_path, "probe_network.py")
    targets = [f"127.0.0.1:{port}", "1.1.1.1:80", "8.8.8.8:53"]
    result = run_sandboxed([PY, "probe_network.py", *targets], wd)
    outcome = probe(result)
    try:
        if result.isolation.network:
            assert not any(value == "connected" for value in outcome.values()), outcome
            assert not outcome["dns:pypi.org"].startswith("resolved"), outcome
            assert not accepted
            # Control: without isolation the same probe does reach the grader, so the probe can tell.
            plain = run_sandboxed([PY, "probe_network.py", f"127.0.0.1:{port}"], wd, isolate=False)
            assert probe(plain)[f"127.0.0.1:{port}"] == "connected"
        else:
            assert "no network isolation" in " ".join(result.isolation.not_enforced)
    finally:
        thread.join(timeout=15)
        listener.close()
        for conn in accepted:
            conn.close()


def test_two_concurrent_sandboxes_cannot_see_each_other(tmp_path):
    secrets = [f"secret-{i}-{uuid.uuid4().hex}" for i in range(2)]
    wds = [workdir_with(tmp_path, "probe_files.py", extra={"mine.txt": s.encode()}) for s in secrets]
    results = [None, None]

    def run(i):
        other = wds[1 - i] / "mine.txt"
        results[i] = run_sandboxed([PY, "probe_files.py", "read", str(other), str(wds[i] / "mine.txt")], wds[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for i, result in enumerate(results):
        outcome = probe(result)
        assert outcome[str(wds[i] / "mine.txt")] == f"ok:{secrets[i]}"
        if ROOT:
            assert not outcome[str(wds[1 - i] / "mine.txt")].startswith("ok"), outcome


# ---------------------------------------------------------------- notebooks that attack their executor


@pytest.mark.stress
def test_a_kernel_that_ignores_sigint_in_an_infinite_loop_is_killed_at_the_wall_limit(tmp_path):
    nb = notebook("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass")
    start = time.monotonic()
    wd, result = run_notebook(tmp_path, nb, Limits(wall_s=6), cell_timeout=600)  # like `otter run`: no cell timeout
    assert result.status == "timeout", f"{result.status}: {result.reason}\n{result.stderr[-1500:]}"
    assert time.monotonic() - start < 6 + 2
    assert not survivors(str(wd)), "kernel and executor must both be gone"


@pytest.mark.stress
def test_a_kernel_killed_by_its_own_code_is_an_error_result(tmp_path):
    nb = notebook("print('before')", "import os\nos.kill(os.getpid(), 9)", "print('never')")
    wd, result = run_notebook(tmp_path, nb, Limits(wall_s=60))
    assert result.status == "error" and result.returncode == 2, f"{result.reason}\n{result.stderr[-1500:]}"
    assert "kernel died" in result.stderr
    assert not survivors(str(wd))


@pytest.mark.stress
def test_a_kernel_exhausting_memory_is_status_memory(tmp_path):
    nb = notebook("import numpy as np\nblocks = [np.ones(32 * 1024 * 1024) for _ in range(40)]  # 10 GB")
    wd, result = run_notebook(tmp_path, nb, Limits(memory_mb=1024, wall_s=60))
    assert result.status == "memory", f"{result.status}: {result.reason}\n{result.stderr[-1500:]}"
    assert not survivors(str(wd))


# ---------------------------------------------------------------- without root, and the draft API


def _nobody_python() -> str | None:
    for candidate in (PY, "/usr/bin/python3"):
        probe_run = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env", candidate, "-c",
                                    "import json"], capture_output=True)
        if probe_run.returncode == 0:
            return candidate
    return None


@pytest.mark.skipif(not ROOT, reason="this run is not root: every other test already ran in a degraded mode")
def test_degraded_modes_say_what_they_do_not_enforce(tmp_path):
    python = _nobody_python()
    if python is None:
        pytest.skip("no Python that the user nobody may execute (the venv's interpreter lives under /root)")
    base = Path(tempfile.mkdtemp(prefix="nobody-", dir="/tmp"))  # tmp_path's parents are private to root
    os.chmod(base, 0o777)
    code = (
        "import json, sys, tempfile\n"
        "from autograder.sandbox import prepare_workdir, run_sandboxed\n"
        f"wd = prepare_workdir({{}}, base={str(base)!r})\n"
        "out = {}\n"
        "for isolate in (True, False):\n"
        "    r = run_sandboxed([sys.executable, '-c', 'import os; print(os.getuid())'], wd, isolate=isolate)\n"
        "    out[str(isolate)] = {'status': r.status, 'stdout': r.stdout, 'stderr': r.stderr, 'reason': r.reason, 'iso': r.isolation.__dict__}\n"
        "print(json.dumps(out))\n")
    try:
        run = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", python, "-c", code],
                             cwd="/", capture_output=True, text=True, timeout=60,
                             env={"PYTHONPATH": str(REPO), "HOME": str(base), "PATH": "/usr/bin:/bin"})
    finally:
        shutil.rmtree(base, ignore_errors=True)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    isolated, plain = report["True"], report["False"]
    assert isolated["status"] == "ok" and plain["status"] == "ok", report
    assert isolated["iso"]["mode"] in ("userns", "none") and isolated["iso"]["user"] is None
    assert any("not root" in line for line in isolated["iso"]["not_enforced"])
    assert any("no cgroups without root" in line for line in isolated["iso"]["not_enforced"])
    if isolated["iso"]["mode"] == "userns":
        assert isolated["iso"]["network"] and isolated["iso"]["hidden"], "user namespaces still hide and cut"
    assert plain["iso"]["mode"] == "none" and "isolate=False" in " ".join(plain["iso"]["not_enforced"])
    assert plain["stdout"].strip() == "65534"


def test_run_limited_keeps_the_draft_interface(tmp_path):
    wd = workdir_with(tmp_path, "ignore_signals.py")
    token = f"tok-{uuid.uuid4().hex}"
    log = tmp_path / "engine.log"
    run = run_limited([PY, "ignore_signals.py", token, "1"], wd, dict(os.environ), Limits(1.0, None, None), log)
    assert run.timed_out and run.returncode is None and run.sandbox.status == "timeout"
    assert "[sandbox] timeout" in log.read_text()
    assert not survivors(token)


@pytest.mark.stress
def test_overhead_against_a_plain_subprocess(tmp_path):
    """Not a benchmark: a guard that isolation stays cheap (it is printed for the report)."""
    wd = prepare_workdir({}, base=tmp_path)
    argv = [PY, "-c", "pass"]

    def timed(fn):
        times = []
        for _ in range(3):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    plain = timed(lambda: subprocess.run(argv, cwd=wd, check=True))
    boxed = timed(lambda: run_sandboxed(argv, wd))
    print(f"plain {plain:.3f} s, sandboxed {boxed:.3f} s, overhead {boxed - plain:.3f} s")
    assert boxed - plain < 2.0


@pytest.mark.stress
def test_without_cgroups_memory_and_cpu_are_still_enforced_and_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "CGROUP_V1", tmp_path / "no-cgroups")
    wd = workdir_with(tmp_path, "memory_hog.py", "burn_cpu.py")
    hog = run_sandboxed([PY, "memory_hog.py", "10"], wd, Limits(memory_mb=512, wall_s=60))
    assert hog.status == "memory" and "512 MB" in hog.reason, hog.reason
    burn = run_sandboxed([PY, "burn_cpu.py", "2"], wd, Limits(cpu_s=1.5, wall_s=30))
    assert burn.status == "cpu_limit" and burn.wall_s < 10, burn.reason
    for result in (hog, burn):
        assert result.isolation.cgroups == []
        if ROOT:
            assert any("no writable cgroup v1 'memory'" in line for line in result.isolation.not_enforced)
            assert "AS" in result.isolation.rlimits and "NPROC" in result.isolation.rlimits


def test_a_sandbox_module_changed_on_disk_refuses_to_run(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "SOURCE_DIGEST", "0" * 16)  # as if this process imported an older version
    result = run_sandboxed([PY, "-c", "print('should not run')"], prepare_workdir({}, base=tmp_path))
    assert result.status == "sandbox_error" and "restart the grader" in result.reason
    assert "should not run" not in result.stdout


def test_a_large_environment_passes_and_the_spec_is_not_on_a_command_line(tmp_path):
    wd = prepare_workdir({}, base=tmp_path)
    code = ("import os; cmdlines = [open(f'/proc/{p}/cmdline', 'rb').read() for p in os.listdir('/proc') "
            "if p.isdigit()]; print(sum(len(v) for k, v in os.environ.items() if k.startswith('BIG')), "
            "any(('\"ex' + 'pose\"').encode() in c for c in cmdlines))")
    big = {f"BIG{i}": "x" * 60_000 for i in range(5)}  # together over the 128 KB of one argv string
    result = run_sandboxed([PY, "-c", code], wd, env=big)
    assert result.status == "ok", result.reason
    assert result.stdout.split() == ["300000", "False"]
