"""Hidden test of question q6 (instructor side). It only captures the student's outputs;
the verdict is computed outside the kernel by `python -m autograder grade`."""
from otter.test_files import test_case

OK_FORMAT = False
name = "q6"
points = 2.0


@test_case(points=2.0, hidden=True)
def capture_q6(env):
    from autograder.kernel import capture

    capture("q6", env)
