#!/usr/bin/env bash
# Prepare this machine to build and run EfficientLLM Profiler (the demo, the CLI). Safe to run again.
#
#   PY="$(bash scripts/setup.sh | tail -n 1)"
#
# Finds a Python that can `import torch`, trying in order: $EFFICIENTLLM_PYTHON, `python3` on PATH,
# Debian's /usr/bin/python3. When none has PyTorch and this is Debian/Ubuntu as root, it installs
# Debian's CPU build (python3-torch, with libopenblas0-pthread for fast CPU math). Also runs `npm ci`
# when node_modules is missing. It installs nothing only the tests need: scripts/setup-test.sh does that.
#
# Output contract: every message goes to stderr; stdout carries exactly one line, the absolute
# path of the chosen interpreter, so the caller can take the last line of stdout.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# Debian's PyTorch is 1.13 (CPU only); that is enough for the harness's CPU paths and the tests.
DEBIAN_TORCH_PACKAGES=(python3-torch libopenblas0-pthread)

# --- Node --------------------------------------------------------------------------------------
command -v node >/dev/null 2>&1 || die "Node.js 20 or newer is needed (https://nodejs.org, or Debian: apt-get install nodejs npm)."
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || die "Node.js $(node -v) is too old; EfficientLLM Profiler needs Node 20 or newer."
if [ ! -d node_modules ]; then
  say "node_modules is missing: running npm ci"
  npm ci >&2
fi

# --- Python with PyTorch -----------------------------------------------------------------------
# Prints the interpreter's real path when it can import torch; fails quietly otherwise.
torch_python() {
  "$1" -c 'import sys, torch; print(sys.executable)' 2>/dev/null
}

can_apt() { [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1; }

apt_install() {
  say "apt-get install $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update >&2
  apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "$@" >&2
}

how_to_get_torch() {
  cat >&2 <<'HELP'
setup: no Python with PyTorch was found, and this script can only install it on Debian/Ubuntu as root.
  Debian/Ubuntu:  sudo apt-get install --no-install-recommends python3-torch libopenblas0-pthread
  elsewhere:      python3 -m venv .venv && .venv/bin/pip install torch
then point EfficientLLM at that interpreter:
  export EFFICIENTLLM_PYTHON=/path/to/python      (or pass --python /path/to/python to the CLI,
                                                    or set efficientllm.pythonPath in VS Code)
HELP
}

PY=""
if [ -n "${EFFICIENTLLM_PYTHON:-}" ]; then
  PY="$(torch_python "$EFFICIENTLLM_PYTHON")" \
    || say "EFFICIENTLLM_PYTHON=$EFFICIENTLLM_PYTHON cannot import torch; trying python3, then /usr/bin/python3"
fi
for candidate in python3 /usr/bin/python3; do
  [ -z "$PY" ] || break
  PY="$(torch_python "$candidate")" || PY=""
done

if [ -z "$PY" ]; then
  if ! can_apt; then
    how_to_get_torch
    exit 1
  fi
  say "no Python here can import torch: installing Debian's CPU PyTorch (${DEBIAN_TORCH_PACKAGES[*]})."
  say "The profiling harness needs PyTorch; this takes about a minute and ~650 MB, once."
  apt_install "${DEBIAN_TORCH_PACKAGES[@]}"
  PY="$(torch_python /usr/bin/python3)" || die "/usr/bin/python3 still cannot import torch after installing python3-torch; run '/usr/bin/python3 -c \"import torch\"' to see why."
fi

# --- OpenBLAS for Debian's torch ----------------------------------------------------------------
if command -v dpkg >/dev/null 2>&1 && dpkg -s python3-torch >/dev/null 2>&1 \
  && ! dpkg -s libopenblas0-pthread >/dev/null 2>&1; then
  # Without it Debian's torch falls back to reference BLAS: CPU matmuls run ~15x slower.
  if can_apt; then
    apt_install libopenblas0-pthread
  else
    say "warning: libopenblas0-pthread is missing: CPU math runs ~15x slower (as root: apt-get install libopenblas0-pthread)."
  fi
fi

say "using $PY ($("$PY" -c 'import torch; print("torch", torch.__version__)' 2>/dev/null))"
printf '%s\n' "$PY"
