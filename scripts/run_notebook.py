"""Execute a notebook in a real Jupyter kernel, print its outputs and write the executed copy.

Usage: python scripts/run_notebook.py examples/quickstart.ipynb [OUTPUT.ipynb]
"""

from __future__ import annotations

import pathlib
import sys

import nbformat
from nbclient import NotebookClient


def execute(path: pathlib.Path, timeout: int = 300, workdir: pathlib.Path | None = None) -> nbformat.NotebookNode:
    """Run every cell in a fresh kernel (the one named in the notebook) and return the notebook.

    The kernel runs in ``workdir`` (default: the notebook's folder), where the notebook's own files go.
    """
    notebook = nbformat.read(path, as_version=4)
    folder = str(workdir or path.parent)
    NotebookClient(notebook, timeout=timeout, startup_timeout=timeout,
                   resources={"metadata": {"path": folder}}).execute()
    return notebook


def output_text(output: nbformat.NotebookNode) -> str:
    if output.output_type == "stream":
        return output.text
    if output.output_type == "error":
        return f"{output.ename}: {output.evalue}\n"
    return output.get("data", {}).get("text/plain", "") + "\n"


def main(argv: list[str]) -> int:
    source = pathlib.Path(argv[1])
    target = pathlib.Path(argv[2]) if len(argv) > 2 else source.with_suffix(".executed.ipynb")
    notebook = execute(source)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            print(f"In [{cell.execution_count}]: {cell.source}")
            print("".join(output_text(output) for output in cell.outputs))
    nbformat.write(notebook, target)
    print(f"executed notebook written to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
