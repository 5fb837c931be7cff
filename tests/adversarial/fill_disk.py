"""Write COUNT files of MB megabytes each into the current (working) directory."""

import sys

if __name__ == "__main__":
    count, megabytes = int(sys.argv[1]), int(sys.argv[2])
    chunk = b"\0" * (1024 * 1024)
    for i in range(count):
        with open(f"blob{i}.bin", "wb") as handle:
            for _ in range(megabytes):
                handle.write(chunk)
        print(f"wrote blob{i}.bin", flush=True)
