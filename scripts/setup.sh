#!/usr/bin/env bash
# Make a virtual environment with seedmagic (editable) and torch 2.13.0 (the CPU build on the project's machines).
#   bash scripts/setup.sh        .venv: everything the tests need (test tools, JupyterLab and Playwright too)
#   bash scripts/setup.sh run    .venv-run: only what running a notebook needs (seedmagic, torch, ipykernel,
#                                nbclient): the quickstart's environment
# The pip step is skipped while pyproject.toml and this script are unchanged since the last successful set-up.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
case "${1:-dev}" in
  dev) venv=.venv extras="test,browser" ;;
  run) venv=.venv-run extras="check" ;;
  *) echo "usage: bash scripts/setup.sh [dev|run]" >&2; exit 2 ;;
esac
stamp=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ "$(cat "$venv/.seedmagic-setup" 2>/dev/null)" = "$stamp" ]; then
  exit 0
fi
if [ ! -x "$venv/bin/python" ]; then
  echo "setup: creating $venv" >&2
  "$python" -m venv "$venv"
fi
echo "setup: upgrading pip in $venv" >&2
"$venv/bin/python" -m pip install --quiet --upgrade pip
echo "setup: installing seedmagic (editable, extras: $extras) and torch 2.13.0 into $venv" >&2
"$venv/bin/python" -m pip install --progress-bar on "torch==2.13.0" -e ".[$extras]" 2>&1 \
  | { grep -v -e '^Requirement already satisfied' -e '^WARNING: Location' || true; } >&2
"$venv/bin/python" -c "import seedmagic, torch, nbclient" # the install really worked
echo "$stamp" > "$venv/.seedmagic-setup"
echo "setup: $venv is ready" >&2
