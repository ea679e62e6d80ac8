#!/usr/bin/env bash
# All test tiers, fastest first; stops at the first failing tier with a non-zero exit.
#
#   bash scripts/test.sh                 # setup, build, typecheck, lint, unit, webview, python, integration, vscode, e2e
#   bash scripts/test.sh unit python     # only the named tiers (setup always runs first)
#
# The last two tiers run a real VS Code (code-server) from a cache folder outside the repo that
# scripts/setup-code-server.sh fills (~90 s the first time); see test/e2e/README.md.
#
# EFFICIENTLLM_PYTHON is exported (from scripts/setup-test.sh) for every tier: it is the interpreter
# with PyTorch that the integration tests and the harness use.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
shopt -s nullglob

ALL_TIERS=(build typecheck lint unit webview python integration vscode e2e)
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

# code_server_tier NAME COMMAND...: installs/finds code-server, Node 24 and Chromium first
# (scripts/setup-code-server.sh), then runs the tier. Exit 3 from the setup means this machine cannot
# run code-server: the tier is skipped with the setup's message above it.
code_server_tier() {
  local name="$1"; shift
  local tools rc=0 start=$SECONDS
  printf '\n=== %s: setup-code-server.sh\n' "$name"
  tools="$(bash scripts/setup-code-server.sh | tail -n 1)" || rc=$?
  if [ "$rc" -eq 3 ]; then skip_tier "$name" "code-server cannot run on this machine; see above"; return 0; fi
  if [ "$rc" -ne 0 ]; then summary+=("$name FAILED (setup-code-server.sh)"); exit "$rc"; fi
  printf 'setup-code-server.sh: %ss\n' "$((SECONDS - start))"
  export EFFICIENTLLM_TOOLS="$tools"
  run_tier "$name" "$@"
}

printf '=== setup\n'
EFFICIENTLLM_PYTHON="$(bash scripts/setup-test.sh | tail -n 1)" || { summary+=("setup FAILED"); exit 1; }
export EFFICIENTLLM_PYTHON
summary+=("setup ok")

for tier in "${tiers[@]}"; do
  case "$tier" in
    build) run_tier build node scripts/build.mjs ;;
    typecheck) run_tier typecheck npx --no-install tsc -p . ;;
    lint) run_tier lint npm run --silent lint ;;
    unit)
      files=(test/unit/*.test.ts)
      if [ "${#files[@]}" -eq 0 ]; then skip_tier unit "no test/unit/*.test.ts files"
      else run_tier unit node --import tsx --test "${files[@]}"; fi ;;
    webview)
      # The panels' pages in headless Debian Chromium (playwright-core); setup-test.sh installs chromium.
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
    vscode)
      # test/vscode/suite.ts in code-server's Node extension host, against the built dist/.
      [ -f dist/extension.js ] || node scripts/build.mjs
      code_server_tier vscode node --import tsx test/vscode/run-in-code-server.ts ;;
    e2e)
      # The real UI in Chromium, with the extension installed from the .vsix (`npm run package`).
      files=(test/e2e/*.test.ts)
      if [ "${#files[@]}" -eq 0 ]; then skip_tier e2e "no test/e2e/*.test.ts files"
      else code_server_tier e2e node --import tsx --test --test-concurrency=1 "${files[@]}"; fi ;;
    *) echo "test.sh: unknown tier '$tier' (tiers: ${ALL_TIERS[*]})" >&2; summary+=("$tier unknown"); exit 2 ;;
  esac
done
