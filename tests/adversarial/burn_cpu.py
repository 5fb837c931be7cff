"""Spin on the CPU in THREADS processes forever (the sum of their CPU time is what the limit counts)."""

import multiprocessing
import sys


def spin() -> None:
    while True:
        pass


if __name__ == "__main__":
    workers = [multiprocessing.Process(target=spin) for _ in range(int(sys.argv[1]) - 1)]
    for worker in workers:
        worker.start()
    spin()
