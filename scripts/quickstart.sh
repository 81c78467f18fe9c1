#!/usr/bin/env bash
# The main job: set up .venv-run (seedmagic, torch, a Jupyter kernel and nbclient; no development tools),
# then execute examples/quickstart.ipynb in a real Jupyter kernel, print its outputs and write the executed
# notebook to examples/quickstart.executed.ipynb.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh run
echo "quickstart: running examples/quickstart.ipynb in a fresh kernel" >&2
.venv-run/bin/python scripts/run_notebook.py examples/quickstart.ipynb examples/quickstart.executed.ipynb
