"""Defaults every part of the grader shares (one source: ``Limits``, the command line, nbgrader's config).

Kernel-side (``paths.KERNEL_SIDE``): nbgrader reads it from its config file inside the sandbox.
"""

WALL_S = 300.0  # wall-clock seconds per submission, kernel start included; also nbgrader's cell timeout
