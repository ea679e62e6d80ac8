#!/usr/bin/env bash
# All test tiers, fastest first; stops at the first failing tier with a non-zero exit.
#
#   bash scripts/test.sh                 # setup, build, typecheck, lint, unit, webview, python, integration
#   bash scripts/test.sh unit python     # only the named tiers (setup always runs first)
#
# EFFICIENTLLM_PYTHON is exported (from scripts/setup.sh) for every tier: it is the interpreter
# with PyTorch that the integration tests and the harness use.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
shopt -s nullglob

ALL_TIERS=(build typecheck lint unit webview python integration)
if [ "$#" -gt 0 ]; then tiers=("$@"); else tiers=("${ALL_TIERS[@]}"); fi

summary=()
finish() {
  local rc=$?
  if [ "${#summary[@]}" -gt 0 ]; then
    local IFS=','
    printf '\ntest.sh: %s\n' "$(echo "${summary[*]}" | sed 's/,/ · /g')"
  fi
  exit "$rc"
}
trap finish EXIT

# run_tier NAME COMMAND...: runs one tier, records "NAME ok (Ns)" or "NAME FAILED" and stops on failure.
run_tier() {
  local name="$1"; shift
  printf '\n=== %s: %s\n' "$name" "$*"
  local start=$SECONDS
  if "$@"; then
    summary+=("$name ok ($((SECONDS - start))s)")
  else
    local rc=$?
    summary+=("$name FAILED")
    exit "$rc"
  fi
}
skip_tier() { printf '\n=== %s: skipped (%s)\n' "$1" "$2"; summary+=("$1 skipped"); }

printf '=== setup\n'
EFFICIENTLLM_PYTHON="$(bash scripts/setup.sh | tail -n 1)" || { summary+=("setup FAILED"); exit 1; }
export EFFICIENTLLM_PYTHON
summary+=("setup ok")

for tier in "${tiers[@]}"; do
  case "$tier" in
    build) run_tier build node scripts/build.mjs ;;
    typecheck) run_tier typecheck npx --no-install tsc -p . ;;
    lint) run_tier lint npx --no-install eslint . ;;
    unit)
      files=(test/unit/*.test.ts)
      if [ "${#files[@]}" -eq 0 ]; then skip_tier unit "no test/unit/*.test.ts files"
      else run_tier unit node --import tsx --test "${files[@]}"; fi ;;
    webview)
      # The panels' pages in headless Debian Chromium (playwright-core); setup.sh installs chromium.
      files=(test/webview/*.test.ts)
      if [ "${#files[@]}" -eq 0 ]; then skip_tier webview "no test/webview/*.test.ts files"
      elif [ ! -x /usr/bin/chromium ]; then skip_tier webview "no /usr/bin/chromium (apt-get install chromium)"
      else run_tier webview node --import tsx --test "${files[@]}"; fi ;;
    python)
      files=(test/python/test_*.py test/python/*_test.py)
      if [ "${#files[@]}" -eq 0 ]; then skip_tier python "no test/python/test_*.py files"
      else
        # The harness package is importable from its source folder; no cache dir in the tree.
        PYTHONPATH="src/harness${PYTHONPATH:+:$PYTHONPATH}" \
          run_tier python "$EFFICIENTLLM_PYTHON" -m pytest -q -p no:cacheprovider test/python
      fi ;;
    integration)
      files=(test/integration/*.test.ts)
      if [ "${#files[@]}" -eq 0 ]; then skip_tier integration "no test/integration/*.test.ts files"
      else run_tier integration node --import tsx --test --test-concurrency=1 "${files[@]}"; fi ;;
    *) echo "test.sh: unknown tier '$tier' (tiers: ${ALL_TIERS[*]})" >&2; summary+=("$tier unknown"); exit 2 ;;
  esac
done
