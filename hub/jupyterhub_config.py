"""JupyterHub for one Recurrent course on one machine: the course's environment, nbgrader's exchange.

    sudo .venv/bin/jupyterhub -f hub/jupyterhub_config.py

Real users (PAM logins, servers started as each Unix user by LocalProcessSpawner) by default; every
setting below can be overridden on the command line (the smoke test, tests/test_hub.py, runs it with
``--JupyterHub.authenticator_class=dummy --JupyterHub.spawner_class=simple``). The settings read from
the environment:

* ``RECURRENT_COURSE_ID`` (default ``recurrent``): nbgrader's course id, and the groups
  ``formgrade-<id>`` (instructors: the formgrader) and ``nbgrader-<id>`` (students: the Assignments tab).
* ``RECURRENT_EXCHANGE`` (default ``/srv/nbgrader/exchange``): nbgrader's exchange folder, shared by
  every user (nbgrader makes it world-writable with the sticky bit).
* ``RECURRENT_INSTRUCTORS``, ``RECURRENT_STUDENTS``: comma-separated user names (the class roster).
* ``RECURRENT_HUB_URL`` (default ``http://127.0.0.1:8000``): where the Hub listens.

The single-user servers run this checkout's environment (the ``.venv`` the Hub itself runs from), so
students get exactly the packages ``make env`` installs; ``hub/student/nbgrader_config.py`` points their
Assignments tab at the exchange. Past one machine, the same pieces go into Zero to JupyterHub on
Kubernetes: see "JupyterHub at scale" in autograder/README.md.
"""

import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821  (JupyterHub's config loader defines it)

HERE = Path(__file__).resolve().parent
COURSE = os.environ.get("RECURRENT_COURSE_ID", "recurrent")
EXCHANGE = os.environ.get("RECURRENT_EXCHANGE", "/srv/nbgrader/exchange")


def _names(variable: str) -> set[str]:
    return {name.strip() for name in os.environ.get(variable, "").split(",") if name.strip()}


instructors, students = _names("RECURRENT_INSTRUCTORS"), _names("RECURRENT_STUDENTS")

c.JupyterHub.bind_url = os.environ.get("RECURRENT_HUB_URL", "http://127.0.0.1:8000")
c.Authenticator.allowed_users = instructors | students
c.Authenticator.admin_users = instructors
c.JupyterHub.load_groups = {
    f"formgrade-{COURSE}": {"users": sorted(instructors)},
    f"nbgrader-{COURSE}": {"users": sorted(students)},
}

# Each user's server: this environment's jupyterhub-singleuser, opening JupyterLab.
c.Spawner.cmd = [str(Path(sys.executable).with_name("jupyterhub-singleuser"))]
c.Spawner.default_url = "/lab"
c.Spawner.environment = {
    "JUPYTER_CONFIG_PATH": str(HERE / "student"),
    "RECURRENT_COURSE_ID": COURSE,
    "RECURRENT_EXCHANGE": EXCHANGE,
}
c.Spawner.mem_limit = os.environ.get("RECURRENT_MEM_LIMIT", "2G")  # one lecture's kernel needs 400-550 MB
