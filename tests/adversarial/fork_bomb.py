"""Fork as fast as possible (every child forks too), each process in its own session, never exiting.
TOKEN in argv marks every process."""

import os
import sys
import time

if __name__ == "__main__":
    token = sys.argv[1]
    print("bombing", flush=True)
    while True:
        try:
            if os.fork() == 0:
                os.setsid()
        except OSError:
            time.sleep(0.01)  # refused by the process limit: try again
