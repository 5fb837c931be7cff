"""Try TCP connections to each HOST:PORT and a DNS lookup; print one JSON object {target: outcome}."""

import json
import socket
import sys


def connect(target: str) -> str:
    host, port = target.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=3) as sock:
            sock.sendall(b"hello from the sandbox\n")
        return "connected"
    except Exception as exc:
        return f"{type(exc).__name__}: {getattr(exc, 'strerror', None) or exc}"


def resolve(name: str) -> str:
    try:
        return "resolved:" + socket.gethostbyname(name)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


if __name__ == "__main__":
    outcome = {target: connect(target) for target in sys.argv[1:]}
    outcome["dns:pypi.org"] = resolve("pypi.org")
    print(json.dumps(outcome))
