"""JupyterHub smoke test: the course's Hub configuration (hub/jupyterhub_config.py) for real.

The instructor releases Assignment 1 to nbgrader's exchange with the real ``nbgrader
release_assignment``; JupyterHub starts on 127.0.0.1 with the dummy authenticator and the simple
local-process spawner (the only two settings changed from the course configuration); two students log
in through the Hub's login form, their servers are started through the Hub's REST API, and each one's
Assignments tab (nbgrader's own server extension, in the course environment) lists A1 as released and
fetches it into the student's home.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import requests

from servers import Process, free_port, proxy_command, require, wait_for

ROOT = Path(__file__).resolve().parents[1]
COURSE, ASSIGNMENT = "recurrent", "a1"
STUDENTS = ("alice", "bob")
pytestmark = pytest.mark.engine  # real nbgrader and a real JupyterHub: not in the fast loop
ADMIN_TOKEN = "smoke-test-" + os.urandom(8).hex()


def _nbgrader(*args: str, cwd: Path) -> str:
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    if proxy_command() is None:
        require("configurable-http-proxy (JupyterHub's proxy)", "npm install -g configurable-http-proxy")
    folder = tmp_path_factory.mktemp("hub")
    exchange, course, homes, state = (folder / name for name in ("exchange", "course", "home", "state"))
    for path in (course / "release", homes, state):
        path.mkdir(parents=True)

    # The instructor's release: the committed student notebook, into the exchange.
    shutil.copytree(ROOT / "assignments" / ASSIGNMENT, course / "release" / ASSIGNMENT)
    _nbgrader("release_assignment", ASSIGNMENT, f"--course={COURSE}", f"--Exchange.root={exchange}", cwd=course)

    port, hub_port, proxy_port = free_port(), free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    (state / "smoke_config.py").write_text(textwrap.dedent(f"""
        load_subconfig({str(ROOT / "hub" / "jupyterhub_config.py")!r})
        c.JupyterHub.authenticator_class = "dummy"
        c.JupyterHub.spawner_class = "simple"
        c.SimpleLocalProcessSpawner.home_dir_template = {str(homes)!r} + "/{{username}}"
        c.Spawner.args = {["--allow-root"] if os.geteuid() == 0 else []!r}
        c.Spawner.start_timeout = 120
        c.Spawner.http_timeout = 120
        c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub_port}"
        c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_port}"
        c.JupyterHub.db_url = "sqlite:///{state}/jupyterhub.sqlite"
        c.JupyterHub.cookie_secret_file = "{state}/cookie_secret"
        c.JupyterHub.services = [{{"name": "smoke", "api_token": {ADMIN_TOKEN!r}}}]
        c.JupyterHub.load_roles = [{{"name": "smoke", "services": ["smoke"],
                                     "scopes": ["admin:users", "admin:servers", "tokens", "list:users"]}}]
    """))
    env = dict(os.environ, RECURRENT_EXCHANGE=str(exchange), RECURRENT_COURSE_ID=COURSE,
               RECURRENT_STUDENTS=",".join(STUDENTS), RECURRENT_INSTRUCTORS="teacher", RECURRENT_HUB_URL=url,
               PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    process = Process([sys.executable, "-m", "jupyterhub", "-f", str(state / "smoke_config.py")],
                      state / "hub.log", cwd=state, env=env)
    try:
        wait_for(lambda: requests.get(f"{url}/hub/api/", timeout=5).ok, 90, "JupyterHub answered", process)
        yield dict(url=url, homes=homes, exchange=exchange, process=process)
    finally:
        process.stop(grace=20)


def _admin(hub, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, f"{hub['url']}/hub/api{path}", timeout=30,
                            headers={"Authorization": f"token {ADMIN_TOKEN}"}, **kwargs)


def _log_in(hub, name: str) -> requests.Session:
    """The login form, as a browser submits it (the xsrf cookie first)."""
    session = requests.Session()
    session.get(f"{hub['url']}/hub/login", timeout=30).raise_for_status()
    answer = session.post(f"{hub['url']}/hub/login", timeout=60, allow_redirects=False,
                          data={"username": name, "password": "any", "_xsrf": session.cookies.get("_xsrf")})
    assert answer.status_code == 302, f"{name}: logging in gave {answer.status_code}: {answer.text[:500]}"
    return session


@pytest.mark.parametrize("student", STUDENTS)
def test_student_logs_in_and_sees_the_released_assignment(hub, student):
    session = _log_in(hub, student)
    who = session.get(f"{hub['url']}/hub/home", timeout=30)
    assert who.ok and student in who.text, f"{student} is not logged in: {who.status_code}"

    started = _admin(hub, "POST", f"/users/{student}/server")
    assert started.status_code in (201, 202), f"starting {student}'s server: {started.status_code} {started.text}"
    wait_for(lambda: _admin(hub, "GET", f"/users/{student}").json()["servers"].get("", {}).get("ready"),
             180, f"{student}'s server ready", hub["process"], every=1)

    token = _admin(hub, "POST", f"/users/{student}/tokens", json={"note": "smoke", "expires_in": 600}).json()["token"]
    server = f"{hub['url']}/user/{student}"
    headers = {"Authorization": f"token {token}"}
    listed = requests.get(f"{server}/assignments", params={"course_id": COURSE}, headers=headers, timeout=60)
    assert listed.ok, f"{student}'s Assignments tab: {listed.status_code} {listed.text[:500]}"
    body = listed.json()
    assert body["success"], body
    released = [a for a in body["value"] if a["assignment_id"] == ASSIGNMENT and a["status"] == "released"]
    assert released, f"{student} does not see {ASSIGNMENT} released: {body['value']}"
    assert released[0]["course_id"] == COURSE

    fetched = requests.post(f"{server}/assignments/fetch", headers=headers, timeout=60,
                            data={"course_id": COURSE, "assignment_id": ASSIGNMENT})
    assert fetched.ok and fetched.json()["success"], f"{student} could not fetch: {fetched.text[:500]}"
    notebook = hub["homes"] / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert notebook.read_bytes() == (ROOT / "assignments" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_bytes()
    # and the student's own copy now shows as fetched, through the same tab
    again = requests.get(f"{server}/assignments", params={"course_id": COURSE}, headers=headers, timeout=60).json()
    assert any(a["assignment_id"] == ASSIGNMENT and a["status"] == "fetched" for a in again["value"]), again
