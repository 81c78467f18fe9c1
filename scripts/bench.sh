#!/usr/bin/env bash
# Benchmarks: make .venv-bench (seedmagic, torch 2.13.0 and, only here, Lightning and accelerate),
# then run benchmarks/bench.py, which prints a table and writes benchmarks/results.json.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
[ -x .venv-bench/bin/python ] || "$python" -m venv .venv-bench
.venv-bench/bin/python -m pip install --quiet --upgrade pip
.venv-bench/bin/python -m pip install --quiet "torch==2.13.0" lightning accelerate -e .
.venv-bench/bin/python benchmarks/bench.py "$@"
