#!/usr/bin/env bash
# The demo: profile MHA, GQA and MQA on a tiny synthetic model, on this machine's CPU or GPU.
#
#   npm ci && npm run demo            # extra CLI flags pass through: npm run demo -- --json
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PY="$(bash scripts/setup.sh | tail -n 1)"
export EFFICIENTLLM_PYTHON="$PY"
node scripts/build.mjs
exec node dist/cli.js profile --preset tiny --attention mha,gqa,mqa --stage inference \
  --target local --python "$PY" "$@"
