"""Leave booby-trapped outputs for the grader: symlinks named like capture files that point at
files the student cannot read (the grader, running as root, could), and try a hard link to a file
outside the working directory. Prints one JSON object of what succeeded."""

import json
import os
import sys

if __name__ == "__main__":
    targets = sys.argv[1:]
    os.makedirs("capture", exist_ok=True)
    done = {}
    for i, target in enumerate(targets):
        os.symlink(target, f"capture/q{i}.npz")
        done[f"symlink q{i}"] = target
    os.symlink("/", "capture/root")  # a directory link: capture/root/etc/passwd
    with open("capture/ok.npz", "wb") as handle:
        handle.write(b"real output")
    try:
        os.link("/etc/passwd", "capture/passwd.npz")
        done["hardlink"] = "ok"
    except OSError as exc:
        done["hardlink"] = exc.strerror
    print(json.dumps(done))
