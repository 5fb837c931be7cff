"""What a batch gives the student's kernel: the manifest, the instructor inputs and the substitute table.

Nothing written here contains solution code or a graded expected output (``autograder.cases`` builds the
manifest, ``autograder.substitutes`` the table).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .cases import INPUTS, MANIFEST, Case, manifest_and_arrays
from .substitutes import write_substitutes


def write_inputs(directory: Path, assignment: str, cases: list[Case], ref, forbidden: dict | None = None) -> None:
    """Write manifest.json, inputs.npz and the substitute table (``autograder.substitutes``) for the
    kernel into ``directory``. Nothing written here contains solution code or a graded expected output."""
    manifest, arrays = manifest_and_arrays(assignment, cases, forbidden)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=1))
    np.savez(directory / INPUTS, **arrays)
    write_substitutes(directory, cases, ref)
