#!/usr/bin/env bash
# The checks that need a CUDA device: run on a GPU machine (CI has none). Sets up .venv like the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -c "import torch; print('torch', torch.__version__, 'CUDA devices:', torch.cuda.device_count())"
.venv/bin/python -m pytest -v tests/test_cuda_device.py tests/test_cuda_logic.py "$@"
