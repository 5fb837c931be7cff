"""Shape checks that raise with expected vs got, instead of a print.

Dimensions are ints (must match exactly), letters from the shape legend
(N, T, D, H, V, G: bound on first use, must agree afterwards) or ``None`` (anything).
"""

from __future__ import annotations

from typing import Sequence


def check_shape(x, expected: Sequence[int | str | None], name: str = "array",
                dims: dict[str, int] | None = None) -> dict[str, int]:
    """Assert that ``x.shape`` matches ``expected``; return the bound letters.

    >>> dims = check_shape(np.zeros((2, 3)), ("N", "H"), "h")
    >>> check_shape(np.zeros((2, 5)), ("N", "V"), "scores", dims)  # N must be 2 again
    {'N': 2, 'H': 3, 'V': 5}

    Raises:
        ValueError: naming the array, the expected and the actual shape, and the first
            dimension that disagrees.
    """
    dims = {} if dims is None else dims
    shape = tuple(getattr(x, "shape", ()))
    want = "(" + ", ".join("*" if d is None else str(d) for d in expected) + ")"
    if len(shape) != len(expected):
        raise ValueError(f"{name}: expected {len(expected)}-D shape {want}, got {len(shape)}-D shape {shape}")
    for axis, (got, spec) in enumerate(zip(shape, expected)):
        if spec is None:
            continue
        if isinstance(spec, str):
            bound = dims.setdefault(spec, got)
            if bound != got:
                raise ValueError(
                    f"{name}: expected shape {want} with {spec}={bound}, got {shape} "
                    f"(axis {axis} is {got})"
                )
        elif got != spec:
            raise ValueError(f"{name}: expected shape {want}, got {shape} (axis {axis} is {got}, not {spec})")
    return dims
