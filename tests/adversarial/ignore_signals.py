"""Ignore SIGINT/SIGTERM/SIGHUP, start CHILDREN children that do the same in their own sessions
(escaping the process group), then spin forever. Every process keeps the TOKEN in its argv so the
test can look for survivors."""

import os
import signal
import sys


def stubborn() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)


if __name__ == "__main__":
    token, children = sys.argv[1], int(sys.argv[2])
    stubborn()
    for _ in range(children):
        if os.fork() == 0:
            os.setsid()  # out of the parent's process group: killpg alone would miss it
            if os.fork() == 0:  # and a grandchild daemon, reparented away from us
                while True:
                    pass
            while True:
                pass
    print("ready", flush=True)
    while True:
        pass
