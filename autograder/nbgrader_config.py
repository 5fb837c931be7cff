# nbgrader configuration of a Recurrent course directory.
# `python -m autograder release` copies this file into autograder/build/<aN>/nbgrader/;
# `python -m autograder grade` passes the database URL and kernel on the command line.
from autograder.defaults import WALL_S

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "recurrent"
c.CourseDirectory.root = "."
# The student notebook keeps the self-check tests next to it (tests/qN.py); release them too.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]
# Solutions are replaced by this stub in the student version.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
# Grading kernels: always the standard Python kernel of the grading environment, whatever the
# submission's metadata says (a student's renamed or missing kernel must not crash grading).
c.Execute.kernel_name = "python3"
c.Execute.timeout = int(WALL_S)  # one default for the whole grader (autograder/defaults.py)
c.Execute.interrupt_on_timeout = True
# Feedback is produced by `python -m autograder grade`; nbgrader's own feedback would show hidden tests.
