"""Cells a cheating student could add at the top of a notebook, for the grading pipeline's tests.

Each is harmless to run outside grading. Inside grading they show why nothing that contains the
answers may be readable from the sandbox (``expose``, or the working copy):

* ``STEAL_REFERENCE``: wraps the capture function so that, just before each hidden test captures
  the student's outputs, every function of the reference solution replaces the student's. It
  finds the solution through the capture manifest's ``reference_notebook`` (exposed so that
  ``patch`` cases work) or nbgrader's ``source/`` copy in the working directory.
* ``FAKE_CAPTURES``: writes capture files itself and then stops the kernel, hoping the grader
  trusts whatever is in ``capture/``.
"""

STEAL_REFERENCE = r'''
import glob, json, os
import autograder.kernel as _k

def _solution_path():
    manifest = os.path.join(os.environ.get("RECURRENT_CAPTURE_IN", "/nonexistent"), "manifest.json")
    here, candidates = os.getcwd(), []
    while True:  # nbgrader runs the kernel in submitted/<student>/<aN>/: look in every parent
        candidates += glob.glob(os.path.join(here, "source", "*", "*.ipynb"))
        if os.path.dirname(here) == here:
            break
        here = os.path.dirname(here)
    try:
        candidates.insert(0, json.load(open(manifest))["reference_notebook"])
    except Exception:
        pass
    return next((p for p in candidates if os.path.exists(p)), None)

_original_capture = _k.capture

def _cheating_capture(question, env):
    path = _solution_path()
    if path:
        try:
            reference = _k._reference(path)
            env.update({n: getattr(reference, n) for n in dir(reference) if not n.startswith("_")})
        except Exception:
            pass
    return _original_capture(question, env)

_k.capture = _cheating_capture
'''

FAKE_CAPTURES = r'''
import os
import numpy as np
out = os.environ.get("RECURRENT_CAPTURE_OUT")
if out:
    for q in ("q1", "q2", "q3", "q4", "q5", "q6", "q7"):
        np.savez(os.path.join(out, q + ".npz"), **{"forged/out": np.zeros(3)})
    os._exit(0)
'''
