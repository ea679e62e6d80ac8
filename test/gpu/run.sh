#!/usr/bin/env bash
# Run on the lent GPU machine from the repository root (dist/ built beforehand and carried along):
#   bash test/gpu/run.sh      # memory-order.mjs (memory per config, whatever ran first), then gpu-checks.mjs
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
[ -f dist/cli.js ] || { echo "dist/cli.js is missing: run 'node scripts/build.mjs' before carrying the tree" >&2; exit 2; }
command -v node >/dev/null || { echo "node is not on this GPU machine's PATH" >&2; exit 2; }
PY=${EFFICIENTLLM_PYTHON:-python3}
"$PY" -c 'import torch, sys; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0) if torch.cuda.is_available() else "NO GPU"); sys.exit(0 if torch.cuda.is_available() else 3)'
nvidia-smi --query-gpu=name,memory.total,driver_version,power.limit --format=csv || true
# Each script prints its own table and checks; a failure of one does not hide the other's results.
status=0
EFFICIENTLLM_PYTHON="$PY" node test/gpu/memory-order.mjs || status=$?
EFFICIENTLLM_PYTHON="$PY" node test/gpu/gpu-checks.mjs || status=$?
# Issue 12 items 6, 7, 9: kernel dtypes and the stated peak, energy-counter power, memory without pynvml.
EFFICIENTLLM_PYTHON="$PY" node test/gpu/metric-checks.mjs || status=$?
# Two GPUs or more: DDP and FSDP over NCCL (skips, exit 0, on one GPU).
EFFICIENTLLM_PYTHON="$PY" node test/gpu/distributed.mjs || status=$?
exit "$status"
