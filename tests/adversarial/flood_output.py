"""Write MB megabytes to stdout (and a little to stderr), as fast as possible."""

import sys

if __name__ == "__main__":
    megabytes = int(sys.argv[1])
    line = ("x" * 1023 + "\n").encode()
    block = line * 1024
    print("starting the flood", file=sys.stderr, flush=True)
    for _ in range(megabytes):
        sys.stdout.buffer.write(block)
    sys.stdout.flush()
