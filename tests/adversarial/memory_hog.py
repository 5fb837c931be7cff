"""Allocate and touch GB gigabytes (numpy), reporting progress."""

import sys

import numpy as np

if __name__ == "__main__":
    gigabytes = float(sys.argv[1])
    blocks = []
    for i in range(int(gigabytes * 4)):
        blocks.append(np.ones(256 * 1024 * 1024 // 8))  # 256 MB, touched
        print(f"{(i + 1) / 4:.2f} GB", flush=True)
    print("allocated everything", flush=True)
