"""Hidden test of question q2 (instructor side). It only captures the student's outputs;
the verdict is computed outside the kernel by `python -m autograder grade`."""
from otter.test_files import test_case

OK_FORMAT = False
name = "q2"
points = 4.0


@test_case(points=4.0, hidden=True)
def capture_q2(env):
    from autograder.kernel import capture

    capture("q2", env)
