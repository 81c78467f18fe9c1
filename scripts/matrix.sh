#!/usr/bin/env bash
# The version matrix: the parts of the suite that need no torch (cells through IPython's pipeline,
# option parsing, history, the extension's lifecycle, interrupts, state files, bad input) on the
# oldest and newest supported Python, NumPy and IPython. torch installs quickly only for the main
# environment's Python (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
tests=(tests/test_cellcode.py tests/test_magicline.py tests/test_history.py tests/test_lifecycle.py tests/test_interrupts.py
       tests/test_state_files.py tests/test_bad_input.py)
run() {  # name python numpy-spec ipython-spec
  local name=$1 python=$2 numpy=$3 ipython=$4 venv=".venv-matrix-$1"
  if ! command -v "$python" >/dev/null && [ ! -x "$python" ]; then
    echo "matrix $name: $python not found" >&2
    return 1
  fi
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
  local stamp
  stamp=$(printf '%s %s %s\n' "$numpy" "$ipython" "$(sha256sum pyproject.toml)" | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$venv/.seedmagic-setup" 2>/dev/null)" != "$stamp" ]; then
    "$venv/bin/python" -m pip install --quiet "$numpy" "$ipython" "ipywidgets>=8" "pytest>=7" "hypothesis>=6" -e .
    echo "$stamp" > "$venv/.seedmagic-setup"
  fi
  echo "== matrix $name: $("$venv/bin/python" -c 'import sys, numpy, IPython; print("Python", sys.version.split()[0], "NumPy", numpy.__version__, "IPython", IPython.__version__)')"
  "$venv/bin/python" -m pytest -q -p no:cacheprovider "${tests[@]}"
}
pyenv_python() {  # the pyenv interpreter of a minor version, else the one on PATH
  local found
  found=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$1".*/bin/python"$1" 2>/dev/null | sort -V | tail -n 1)
  echo "${found:-python$1}"
}
run oldest "$(pyenv_python 3.10)" "numpy==1.22.4" "ipython==8.17.2"
run newest "$(pyenv_python 3.13)" "numpy" "ipython>=9"
