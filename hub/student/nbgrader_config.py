"""nbgrader settings every single-user server reads (JUPYTER_CONFIG_PATH points here; see ../jupyterhub_config.py)."""

import os

c = get_config()  # noqa: F821

c.CourseDirectory.course_id = os.environ.get("RECURRENT_COURSE_ID", "recurrent")
c.Exchange.root = os.environ.get("RECURRENT_EXCHANGE", "/srv/nbgrader/exchange")
