"""Stand-in put first on the grading processes' PYTHONPATH (``autograder.grade.kernel_env``).

The real ``rfc3987_syntax`` builds a lark grammar when imported (about 2.4 s on the course machine),
and every nbgrader or otter process and every kernel that imports ``nbformat`` imports it through
``jsonschema``'s format checkers. ``jsonschema`` treats an ``ImportError`` here as "no ``iri`` format
checker", and the notebook schema does not use that format, so validation is unchanged.
"""

raise ImportError("rfc3987_syntax is skipped in grading processes (see autograder/fastpath)")
