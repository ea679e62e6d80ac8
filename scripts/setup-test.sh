#!/usr/bin/env bash
# Prepare this machine to run every test tier. Safe to run again; prints the Python with PyTorch.
#
#   PY="$(bash scripts/setup-test.sh | tail -n 1)"
#
# First scripts/setup.sh (PyTorch, as the demo needs). Then, as root on Debian/Ubuntu, one apt-get
# for what only the tests need, when missing:
#   python3-pytest                 the python tier (for Debian's interpreter; other Pythons: pip install pytest)
#   chromium                       the webview and e2e tiers (headless, driven by playwright-core), ~250 MB
#   openssh-server openssh-client  the integration tier's loopback sshd, and the `ssh -G` agreement test
#   slurm-wlm munge                the integration tier's one-node Slurm
#   libkrb5-dev                    headers for code-server's one native module (vscode and e2e tiers)
# About 2 minutes on a fresh machine, once. Maintainer scripts are kept from starting system daemons
# (sshd on port 22, slurmd, munged): the tests start their own on 127.0.0.1 and stop them by PID.
# code-server and its Node 24 come later from the npm registry (scripts/setup-code-server.sh).
# Output contract as scripts/setup.sh: messages on stderr, one line on stdout (the interpreter).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf 'setup-test: %s\n' "$*" >&2; }

PY="$(bash scripts/setup.sh | tail -n 1)"

missing=()
need_pkg() { command -v dpkg >/dev/null 2>&1 && ! dpkg -s "$1" >/dev/null 2>&1 && missing+=("$1"); return 0; }
if ! "$PY" -c 'import pytest' >/dev/null 2>&1; then
  case "$PY" in
    /usr/bin/python3*) need_pkg python3-pytest ;;
    *) say "warning: $PY has no pytest; the python tier needs it ('$PY -m pip install pytest')." ;;
  esac
fi
[ -x "${EFFICIENTLLM_CHROMIUM:-/usr/bin/chromium}" ] || need_pkg chromium
[ -x /usr/sbin/sshd ] || need_pkg openssh-server
command -v ssh >/dev/null 2>&1 || need_pkg openssh-client
{ [ -x /usr/sbin/slurmctld ] && [ -x /usr/sbin/munged ]; } || { need_pkg slurm-wlm; need_pkg munge; }
need_pkg libkrb5-dev

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "apt-get install ${missing[*]} (what only the tests need; about 2 minutes, once)"
    made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      # Exit 101 = "action forbidden": installing openssh-server or slurm must not start daemons.
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d && made_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    rc=0
    {
      apt-get -o DPkg::Lock::Timeout=600 update -q >&2 \
        && apt-get -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
          install -y -q --no-install-recommends "${missing[@]}" >&2
    } || rc=$?
    [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
    [ "$rc" -eq 0 ] || { say "error: apt-get install ${missing[*]} failed (exit $rc)"; exit "$rc"; }
  else
    say "warning: missing ${missing[*]}; the tiers that need them are skipped (as root: apt-get install ${missing[*]})."
  fi
fi

printf '%s\n' "$PY"
