import random
import subprocess
import sys

import numpy as np
import pytest
import torch

from utils.seed import seed_everything


def draw():
    return random.random(), np.random.rand(), torch.rand(1).item()


def test_same_seed_same_numbers_in_every_library():
    seed_everything(123)
    first = draw()
    seed_everything(123)
    assert draw() == first
    seed_everything(124)
    assert all(a != b for a, b in zip(draw(), first))


def test_deterministic_flags_set():
    seed_everything(0, deterministic=True)
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.backends.cuda.matmul.allow_tf32 is False
    torch.use_deterministic_algorithms(False)


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True])
def test_bad_seed_rejected(bad):
    with pytest.raises(ValueError, match="non-negative int"):
        seed_everything(bad)


def test_importing_utils_does_no_work():
    # Importing the package and its modules must not seed, import matplotlib or load data.
    code = (
        "import sys, random; state = random.getstate();"
        "import utils, utils.device, utils.seed, utils.shapes, utils.gradcheck, utils.data;"
        "assert random.getstate() == state, 'import changed the random state';"
        "assert 'matplotlib' not in sys.modules, 'import pulled in matplotlib';"
        "assert 'torch' not in sys.modules, 'import pulled in torch'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
