#!/usr/bin/env bash
# The main job: set up, then execute examples/quickstart.ipynb in a real Jupyter kernel,
# print its outputs and write the executed notebook to examples/quickstart.executed.ipynb.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python scripts/run_notebook.py examples/quickstart.ipynb examples/quickstart.executed.ipynb
