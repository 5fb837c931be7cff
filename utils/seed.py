"""One explicit call seeds every random number generator the course uses."""

from __future__ import annotations

import os
import random


def seed_everything(seed: int = 0, deterministic: bool = True) -> int:
    """Seed Python's ``random``, numpy and torch (CPU and every GPU).

    With ``deterministic=True`` torch also picks deterministic kernels, disables TF32
    (so CUDA matmuls match the CPU to float32 precision) and cuDNN autotuning.
    Returns the seed, so a notebook can print what it used.
    """
    import numpy as np
    import torch

    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    if deterministic:
        # cuBLAS needs this for deterministic matmuls on CUDA >= 10.2.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    return seed
