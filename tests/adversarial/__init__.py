"""Adversarial programs and notebooks used by tests/test_sandbox.py and tests/test_intake.py.

Each script is what a hostile or broken submission might do; it runs inside the sandbox.
"""
