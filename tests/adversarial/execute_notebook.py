"""A minimal notebook executor (what the grading engines do): run NOTEBOOK with nbclient in a fresh
python3 kernel and write the executed copy to OUT. Exit 0 if every cell ran, 1 on a cell error,
2 if the kernel died."""

import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, DeadKernelError


def main(notebook: str, out: str, timeout: int = 60) -> int:
    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", raise_on_iopub_timeout=False)
    code = 0
    try:
        client.execute()
    except CellExecutionError as exc:
        print(f"cell error: {str(exc)[-500:]}", file=sys.stderr)
        code = 1
    except DeadKernelError as exc:
        print(f"kernel died: {exc}", file=sys.stderr)
        code = 2
    nbformat.write(nb, out)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], *(int(a) for a in sys.argv[3:])))
