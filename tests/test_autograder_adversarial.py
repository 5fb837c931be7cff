"""Adversarial submissions, graded in one batch (nbgrader, --jobs 2) under the default sandbox.

Every notebook is a real submission made from an example by programmatic edits (``ATTACKS``). Each test
asserts the score and status it must get. Attacks that try to *reach* something (read the solutions,
write outside the working copy, open a connection) are wired so that success is visible in the score:
if the attempt works, the cell breaks ``train_char_lm`` just before q7's hidden test, costing 3 points.
So "19/19" proves the attempt failed, and a wrong answer dressed up by a cheat must keep its lost points.
After the batch, the instructor files (solutions/, the student release assignments/a1/, the batch's
gradebook and results) are byte-identical and no process started by a notebook survives.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import threading
import uuid
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder import assignments
from autograder.examples import build_examples
from autograder.grade import GradeConfig, grade_batch
from autograder.paths import REPO
from autograder.sandbox import Limits, _real_root

pytestmark = [pytest.mark.notebook, pytest.mark.engine, pytest.mark.stress]

QUESTIONS = assignments.get("a1").questions
_BUILT: list[Path] = []


def _submissions() -> Path:
    """A1's example submissions, generated once (into a temporary folder) when first needed."""
    if not _BUILT:
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="a1-examples-"))
        build_examples("a1", folder)
        _BUILT.append(folder)
    return _BUILT[0]

TOKEN = f"recurrent-adv-{uuid.uuid4().hex[:12]}"  # marks files and processes an attack leaves behind
FULL = sum(QUESTIONS.values())
SABOTAGE = "\n    globals()['train_char_lm'] = None  # the attempt worked: lose q7\n"
WALL_S = 60.0  # per-submission limit of this batch; a correct submission takes ~10 s here
INSTRUCTOR = [REPO / "solutions", REPO / "assignments" / "a1"]
ISOLATED = _real_root()  # the CI and the course machines; without root only limits are checked

STEAL_PATHS = [REPO / "solutions" / "a1" / "a1.ipynb", REPO / "solutions" / "a1" / "spec.py",
               Path("/root/.bash_history"),
               Path("/etc/shadow")]


def _nb(name: str = "reference"):
    return nbformat.read(_submissions() / f"{name}.ipynb", as_version=4)


def _index(nb, grade_id: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _insert(nb, before: str, source: str):
    nb.cells.insert(_index(nb, before), nbformat.v4.new_code_cell(source))
    return nb


def _top(nb, source: str):
    return _insert(nb, "q1-text", source)


def _attempt(body: str) -> str:
    """A cell that runs ``body`` (which sets ``worked = True`` on success) and sabotages q7 if it worked."""
    indented = "\n".join("    " + line for line in body.strip().splitlines())
    return f"worked = False\ntry:\n{indented}\nexcept Exception:\n    pass\nif worked:{SABOTAGE}"


CHEAT_ALLCLOSE = """
import numpy as np
np.allclose = lambda *a, **k: True
np.isclose = lambda a, b, *x, **k: np.ones(np.broadcast(a, b).shape, dtype=bool)
np.testing.assert_allclose = lambda *a, **k: None
np.array_equal = lambda *a, **k: True
import builtins
builtins.abs = lambda x: 0 * x
"""

CHEAT_HOOK = """
ip = get_ipython()
ip.set_custom_exc((BaseException,), lambda shell, etype, value, tb, tb_offset=None: None)
def _swallow(result):
    result.error_in_exec = None
    result.error_before_exec = None
ip.events.register("post_run_cell", _swallow)
"""

CHEAT_GRADERS = """
import sys, types, numpy as np
import otter, otter.test_files
for cls in vars(otter.test_files).values():
    if isinstance(cls, type):
        for name in ("run", "grade", "_run_test"):
            if hasattr(cls, name):
                setattr(cls, name, lambda *a, **k: None)
try:
    import nbgrader
    nbgrader.__dict__["utils"] = types.SimpleNamespace(determine_grade=lambda *a, **k: (100, 100))
except Exception:
    pass
import autograder.kernel as k
real_flatten = k.flatten
def fake_flatten(value, prefix, out):
    real_flatten(value, prefix, out)
    for key in list(out):
        out[key + "_passed"] = np.array(True)
k.flatten = fake_flatten
"""

CHEAT_SYS_MODULES = """
import sys, types, os, numpy as np
fake = types.ModuleType("autograder.kernel")
def capture(question, env):
    out = os.environ.get("RECURRENT_CAPTURE_OUT", ".")
    np.savez(os.path.join(out, question + ".npz"), **{"q4.basic/passed": np.array(True),
                                                     "q4.basic/out.0": np.array(0.0)})
fake.capture = capture
sys.modules["autograder.kernel"] = fake
import autograder
autograder.kernel = fake
sys.modules["numpy.testing"] = types.ModuleType("numpy.testing")
"""

WRITE_TARGETS_TEMPLATE = """
import os, glob
targets = {targets!r}
for path in targets:
    try:
        with open(path, "a") as handle:
            handle.write("pwned")
        worked = True
        print("wrote", path)
    except Exception:
        pass
own = os.path.dirname(os.environ["RECURRENT_CAPTURE_OUT"])  # this submission's working copy: allowed
for path in glob.glob("/work/**/*.db", recursive=True) + glob.glob("/tmp/**/gradebook.db", recursive=True):
    if path.startswith(own + "/"):
        continue
    try:
        with open(path, "ab") as handle:
            handle.write(b"pwned")
        worked = True
        print("wrote", path)
    except Exception:
        pass
"""

NETWORK = """
import socket
for host, port in [("127.0.0.1", {port}), ("1.1.1.1", 53), ("8.8.8.8", 443)]:
    try:
        s = socket.create_connection((host, port), timeout=2)
        s.close()
        worked = True
    except OSError:
        pass
"""

SIGINT_LOOP = """
import signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
while True:
    pass
"""

FORK_DAEMON = """
import os, subprocess, sys
# a grandchild in its own session that outlives the kernel unless the grader kills the whole tree
subprocess.Popen([sys.executable, "-c", "import time, signal; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                  "time.sleep(3600)", "{token}"], start_new_session=True)
pid = os.fork()
if pid == 0:
    os.setsid()
    import time
    while True:
        time.sleep(1)
"""

MEMORY_BOMB = """
blocks = []
while True:
    blocks.append(bytearray(256 * 1024 * 1024))
    for i in range(0, len(blocks[-1]), 4096):
        blocks[-1][i] = 1
"""

HUGE_OUTPUT = """
import sys
line = "x" * 1_000_000
for _ in range(3000):  # 3 GB through the kernel's iopub channel
    sys.stdout.write(line)
"""


def _steal_body() -> str:
    paths = [str(p) for p in STEAL_PATHS]
    return f"""
for path in {paths!r}:
    try:
        data = open(path, "rb").read(100)
        if data:
            worked = True
            print("read", path)
    except Exception:
        pass
import glob, os
for pattern in ("/work/**/solutions/**/*.ipynb", "/tmp/**/source/a1/*.ipynb", "/work/**/source/a1/*.ipynb",
                os.path.join(os.getcwd(), "**", "source", "*", "*.ipynb")):
    if glob.glob(pattern, recursive=True):
        worked = True
        print("found", pattern, glob.glob(pattern, recursive=True)[:3])
import json, os
manifest = json.load(open(os.path.join(os.environ["RECURRENT_CAPTURE_IN"], "manifest.json")))
if "reference_notebook" in manifest or "expected" in json.dumps(manifest):
    worked = True
"""


def _hash_tree(paths) -> dict:
    digests = {}
    for root in paths:
        for path in sorted(Path(root).rglob("*")) if Path(root).is_dir() else [Path(root)]:
            if path.is_file() and "__pycache__" not in path.parts:
                digests[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def _cell_attacks(nb):
    """(deleted, edited) hidden-test cells and edited nbgrader metadata."""
    deleted = _nb()
    del deleted.cells[_index(deleted, "q3-hidden")]
    edited = _nb()
    edited.cells[_index(edited, "q3-hidden")].source = "pass  # no hidden tests here, thanks"
    meta = edited.cells[_index(edited, "q4-hidden")].metadata["nbgrader"]
    meta["points"], meta["locked"] = 100.0, False
    edited.cells[_index(edited, "q5-hidden")].metadata["nbgrader"]["grade_id"] = "q5-renamed"
    edited.cells[_index(edited, "q6-hidden")].metadata["nbgrader"]["grade"] = False
    solution = edited.cells[_index(edited, "q1-solution")].metadata["nbgrader"]
    solution["grade"], solution["points"] = True, 50.0
    return deleted, edited


def build_submissions(folder: Path, port: int, out: Path) -> dict:
    """Write every adversarial submission; return {student: expectation}."""
    from tests.adversarial.cheats import STEAL_REFERENCE  # noqa: PLC0415

    expect = {}

    def add(student, nb, **expectation):
        nbformat.write(nb, folder / f"{student}.ipynb")
        expect[student] = expectation

    wrong = "q4_mask_ignored"  # loses points in q4 only
    add("cheat_allclose", _top(_nb(wrong), CHEAT_ALLCLOSE), wrong_q="q4")
    add("cheat_ipython_hook", _top(_nb(wrong), CHEAT_HOOK), wrong_q="q4")
    add("cheat_patch_graders", _top(_nb(wrong), CHEAT_GRADERS), wrong_q="q4")
    add("cheat_sys_modules", _top(_nb(wrong), CHEAT_SYS_MODULES), wrong_q="q4", at_most=FULL - QUESTIONS["q4"])
    add("cheat_steal_reference", _top(_nb(wrong), STEAL_REFERENCE), wrong_q="q4")
    add("read_instructor_files", _insert(_nb(), "q7-hidden", _attempt(_steal_body())), score=FULL)
    targets = [str(p) for p in (REPO / "solutions" / "a1" / "a1.ipynb", REPO / "autograder" / "a1" / "cases.py",
                                REPO / f"{TOKEN}.txt", out / "grades.csv", out / "results" / "reference.json",
                                Path("/etc") / f"{TOKEN}.txt", Path("/usr") / f"{TOKEN}.txt")]
    add("write_outside", _insert(_nb(), "q7-hidden",
                                 _attempt(WRITE_TARGETS_TEMPLATE.format(targets=targets, token=TOKEN))), score=FULL)
    add("network", _insert(_nb(), "q7-hidden", _attempt(NETWORK.format(port=port))), score=FULL)
    add("sigint_loop", _insert(_nb(), "q4-text", SIGINT_LOOP), status="timeout", kept=("q1", "q2", "q3"))
    add("os_exit", _insert(_nb(), "q3-text", "import os\nos._exit(3)"), status="kernel_died", kept=("q1", "q2"))
    add("kernel_kill", _insert(_nb(), "q3-text", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"),
        status="kernel_died", kept=("q1", "q2"))
    add("memory_bomb", _insert(_nb(), "q2-text", MEMORY_BOMB), status="memory", kept=("q1",))
    # nbgrader keeps a cell's output in memory: the flood ends as the memory limit or the output limit
    add("huge_output", _insert(_nb(), "q2-text", HUGE_OUTPUT), status=("output_limit", "memory"), kept=("q1",))
    add("fork_daemon", _insert(_nb(), "q7-hidden", FORK_DAEMON.format(token=TOKEN)), score=FULL)
    deleted, edited = _cell_attacks(None)
    add("deleted_hidden_cell", deleted, score=FULL, note="q3-hidden was deleted")
    add("edited_cells_and_metadata", edited, score=FULL, note="q3-hidden was edited")
    add("reference", _nb(), score=FULL)

    # Bad input: each a clear per-submission error (or a warning), and the batch goes on.
    (folder / "invalid_json.ipynb").write_text("{ this is not json")
    expect["invalid_json"] = {"status": "bad_notebook", "problem": "JSON"}
    (folder / "empty.ipynb").write_bytes(b"")
    expect["empty"] = {"status": "bad_notebook", "problem": "empty"}
    (folder / "latin1.ipynb").write_bytes(json.dumps(_nb()).replace("Question", "Qu\u00e9stion").encode("latin-1"))
    expect["latin1"] = {"status": "bad_notebook", "problem": "UTF-8"}
    nbformat.write(nbformat.convert(_nb(), 3), folder / "nbformat3.ipynb")
    expect["nbformat3"] = {"score": FULL, "note": "nbformat 3"}
    (folder / "wrong_name").mkdir()
    nbformat.write(_nb(), folder / "wrong_name" / "Copy of a1.ipynb")
    (folder / "wrong_name" / "scratch.csv").write_text("1,2,3\n")
    expect["wrong_name"] = {"score": FULL, "note": "scratch.csv"}
    (folder / "no_notebook").mkdir()
    (folder / "no_notebook" / "README.txt").write_text("I forgot")
    expect["no_notebook"] = {"status": "bad_notebook", "problem": "notebook"}
    (folder / "symlink_out").mkdir()
    (folder / "symlink_out" / "a1.ipynb").symlink_to(REPO / "solutions" / "a1" / "a1.ipynb")
    expect["symlink_out"] = {"status": "bad_notebook", "problem": "link"}
    with zipfile.ZipFile(folder / "zip_ok.zip", "w") as zf:
        zf.writestr("a1.ipynb", nbformat.writes(_nb()))
    expect["zip_ok"] = {"score": FULL}
    with zipfile.ZipFile(folder / "zip_traversal.zip", "w") as zf:
        zf.writestr("a1.ipynb", nbformat.writes(_nb()))
        zf.writestr(f"../../{TOKEN}.ipynb", "{}")
    expect["zip_traversal"] = {"status": "bad_notebook", "problem": ".."}
    with zipfile.ZipFile(folder / "zip_bomb.zip", "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a1.ipynb", nbformat.writes(_nb()))
        zf.writestr("padding.bin", b"\0" * (600 * 1024 * 1024))
    expect["zip_bomb"] = {"status": "bad_notebook", "problem": "MB"}
    return expect


def _survivors() -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                if TOKEN.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(int(pid))
            except OSError:
                pass
    return found


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    folder = tmp_path_factory.mktemp("adversarial")
    subs, out = folder / "subs", folder / "out"
    subs.mkdir()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    connected = []
    threading.Thread(target=lambda: connected.append(listener.accept()), daemon=True).start()
    expect = build_submissions(subs, listener.getsockname()[1], out)
    before = _hash_tree(INSTRUCTOR)
    limits = Limits(wall_s=WALL_S, memory_mb=1536, max_output_bytes=16 * 1024 * 1024)
    config = GradeConfig("a1", subs, out, "nbgrader", "cpu", jobs=2, limits=limits)
    results = {r.student: r for r in grade_batch(config, progress=lambda msg: None)}
    after = _hash_tree(INSTRUCTOR)
    listener.close()
    yield {"results": results, "expect": expect, "before": before, "after": after, "out": out,
           "connected": connected, "survivors": _survivors()}
    for pid in _survivors():  # only processes carrying this run's token
        os.kill(pid, 9)


CASES = ["cheat_allclose", "cheat_ipython_hook", "cheat_patch_graders", "cheat_sys_modules", "cheat_steal_reference",
         "read_instructor_files", "write_outside", "network", "sigint_loop", "os_exit", "kernel_kill", "memory_bomb",
         "huge_output", "fork_daemon", "deleted_hidden_cell", "edited_cells_and_metadata", "reference",
         "invalid_json", "empty", "latin1", "nbformat3", "wrong_name", "no_notebook", "symlink_out", "zip_ok",
         "zip_traversal", "zip_bomb"]
NEEDS_ROOT = {"read_instructor_files", "write_outside", "network", "cheat_steal_reference"}


@pytest.mark.parametrize("student", CASES)
def test_adversarial_submission_scores_as_specified(batch, student):
    if student in NEEDS_ROOT and not ISOLATED:
        pytest.skip("isolation (hidden paths, network namespace, user drop) needs root")
    result, expect = batch["results"][student], batch["expect"][student]
    scores = result.scores()
    detail = f"{student}: {result.status} {result.reason} {scores} notes={result.notes}"
    if "wrong_q" in expect:  # a wrong answer dressed up by a cheat keeps its lost points
        q = expect["wrong_q"]
        assert scores[q] < QUESTIONS[q], detail
        assert result.score <= expect.get("at_most", FULL - 0.5), detail
    if "score" in expect:
        assert result.status == "ok" and result.score == expect["score"], detail
    if "status" in expect:
        assert result.status in expect["status"] if isinstance(expect["status"], tuple) else \
            result.status == expect["status"], detail
        assert result.reason, detail
        kept = expect.get("kept", ())
        for q, maximum in QUESTIONS.items():
            assert scores[q] == (maximum if q in kept else 0), detail
        for q in result.questions:
            if q.question not in kept:
                assert all(not c.passed and c.message for c in q.cases), detail
    if "problem" in expect:
        assert expect["problem"].lower() in result.reason.lower(), detail
    if "note" in expect:
        assert any(expect["note"] in n for n in result.notes), detail


def test_every_submission_has_a_result_and_a_status_row(batch):
    import csv

    assert set(batch["results"]) == set(batch["expect"])
    rows = list(csv.DictReader((batch["out"] / "grades.csv").open()))
    assert len(rows) == len(batch["expect"]) * len(QUESTIONS)
    assert all(row["status"] for row in rows)
    statuses = {row["student"]: (row["status"], row["reason"]) for row in rows}
    for student, (status, reason) in statuses.items():
        assert status == "ok" or reason, f"{student}: a non-ok status without a reason"


def test_instructor_files_untouched(batch):
    assert batch["after"] == batch["before"]
    assert not (REPO / f"{TOKEN}.txt").exists() and not Path(f"/etc/{TOKEN}.txt").exists()
    assert not Path(f"/usr/{TOKEN}.txt").exists()
    assert not list(batch["out"].parent.rglob(f"{TOKEN}*"))


@pytest.mark.skipif(not ISOLATED, reason="the network namespace needs root")
def test_no_connection_reached_the_grader(batch):
    assert batch["connected"] == []


def test_no_process_survives_the_batch(batch):
    assert batch["survivors"] == [], "processes started by a notebook outlived grading"


def test_feedback_explains_every_failure(batch):
    for student in ("sigint_loop", "os_exit", "memory_bomb", "invalid_json", "deleted_hidden_cell"):
        html = (batch["out"] / "feedback" / f"{student}.html").read_text()
        result = batch["results"][student]
        assert (result.reason and result.reason.split(":")[0] in html) or any(n in html for n in result.notes)


def test_cell_rule_is_the_same_under_otter(tmp_path):
    """Deleted or edited hidden-test cells and edited metadata: restored, full marks, a note (both engines)."""
    deleted, edited = _cell_attacks(None)
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(deleted, subs / "deleted_hidden_cell.ipynb")
    nbformat.write(edited, subs / "edited_cells_and_metadata.ipynb")
    config = GradeConfig("a1", subs, tmp_path / "out", "otter", "cpu", jobs=2, limits=Limits(wall_s=WALL_S * 2))
    for result in grade_batch(config, progress=lambda msg: None):
        assert result.status == "ok" and result.score == FULL, (result.student, result.reason, result.scores())
        assert any("restored" in n or "put the original back" in n for n in result.notes)


@pytest.mark.skipif(not shutil.which("nvidia-smi"), reason="no GPU on this machine")
def test_reference_gets_full_marks_on_cuda(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(_submissions() / "reference.ipynb", subs / "reference.ipynb")
    config = GradeConfig("a1", subs, tmp_path / "out", "nbgrader", "cuda", jobs=1, limits=Limits(wall_s=WALL_S * 2))
    (result,) = grade_batch(config, progress=lambda msg: None)
    assert result.status == "ok" and result.score == FULL, result.reason
