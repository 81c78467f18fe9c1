#!/usr/bin/env bash
# Make .venv with seedmagic (editable), torch 2.13.0 (the CPU build on the project's machines)
# and the test tools (JupyterLab and Playwright for the browser test included). The pip step is
# skipped while pyproject.toml and this script are unchanged since the last successful set-up.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ "$(cat .venv/.seedmagic-setup 2>/dev/null)" != "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet "torch==2.13.0" -e ".[test,browser]"
  echo "$stamp" > .venv/.seedmagic-setup
fi
