#!/usr/bin/env bash
# Make .venv with seedmagic (editable), torch 2.13.0 (the CPU build on the project's machines)
# and the test tools (JupyterLab and Playwright for the browser test included). Safe to run again: it only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet "torch==2.13.0" -e ".[test,browser]"
