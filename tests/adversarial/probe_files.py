"""Try to read and write each given path; print one JSON object {path: outcome}.

Usage: probe_files.py read PATH... | write PATH... | list PATH... | link PATH... (hard link into cwd)
Outcomes: "ok:<first bytes>" / "ok" / "<ExceptionName>: <errno text>"."""

import json
import os
import sys


def attempt(action: str, path: str) -> str:
    try:
        if action == "read":
            with open(path, "rb") as handle:
                return "ok:" + handle.read(64).decode("utf-8", "replace")
        if action == "write":
            with open(path, "w") as handle:
                handle.write("pwned")
            return "ok"
        if action == "link":
            os.link(path, os.path.basename(path) + ".hardlink")
            return "ok"
        if action == "list":
            return "ok:" + ",".join(sorted(os.listdir(path)))
        raise ValueError(action)
    except Exception as exc:
        return f"{type(exc).__name__}: {getattr(exc, 'strerror', None) or exc}"


if __name__ == "__main__":
    action, paths = sys.argv[1], sys.argv[2:]
    print(json.dumps({path: attempt(action, path) for path in paths}))
