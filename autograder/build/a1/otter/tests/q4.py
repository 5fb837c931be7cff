"""Hidden test of question q4 (instructor side). It only captures the student's outputs;
the verdict is computed outside the kernel by `python -m autograder grade`."""
from otter.test_files import test_case

OK_FORMAT = False
name = "q4"
points = 3.0


@test_case(points=3.0, hidden=True)
def capture_q4(env):
    from autograder.kernel import capture

    capture("q4", env)
