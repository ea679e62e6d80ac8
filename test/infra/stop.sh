#!/bin/bash
# test/infra/stop.sh - stop what test/infra/start.sh started under $BASE, by PID file only
# (a PID is only signalled if /proc/PID/comm is the daemon we expect). Idempotent.
set -euo pipefail

BASE=${BASE:-/tmp/elp-test-infra}
t0=$(date +%s%N)
log() { echo "[infra stop +$(( ($(date +%s%N) - t0) / 1000000 ))ms] $*"; }
[ -d "$BASE" ] || { log "nothing under $BASE"; exit 0; }

alive() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) && [ "${st:0:1}" != Z ]; }  # zombie = exited
stop_pidfile() {  # comm pidfile [timeout_s]
  local name=$1 pidf=$2 tmo=${3:-10} p comm
  [ -s "$pidf" ] || return 0
  p=$(cat "$pidf")
  [[ "$p" =~ ^[0-9]+$ ]] || { log "$name: bad pid file $pidf"; return 0; }
  alive "$p" || { log "$name: pid $p not running"; rm -f "$pidf"; return 0; }
  comm=$(cat "/proc/$p/comm" 2>/dev/null || true)
  [ "$comm" = "$name" ] || { log "$name: pid $p is '$comm', not touching it"; return 0; }
  kill -TERM "$p" 2>/dev/null || true
  for _ in $(seq $((tmo * 10))); do
    alive "$p" || { log "$name ($p) stopped"; rm -f "$pidf"; return 0; }
    sleep 0.1
  done
  log "$name ($p) ignored SIGTERM for ${tmo}s -> SIGKILL"
  kill -KILL "$p" 2>/dev/null || true
  rm -f "$pidf"
}

# Slurm: cancel jobs first so no job outlives slurmd.
if [ -s "$BASE/slurm/run/slurmctld.pid" ] && [ -f "$BASE/slurm/slurm.conf" ] && alive "$(cat "$BASE/slurm/run/slurmctld.pid")"; then
  export SLURM_CONF="$BASE/slurm/slurm.conf"
  scancel -p debug 2>/dev/null || true
  for _ in $(seq 150); do [ -z "$(squeue -h 2>/dev/null || true)" ] && break; sleep 0.1; done
  log "slurm jobs cancelled"
fi
stop_pidfile slurmd    "$BASE/slurm/run/slurmd.pid"
stop_pidfile slurmctld "$BASE/slurm/run/slurmctld.pid"
stop_pidfile munged    "$BASE/munge/munged.pid"
stop_pidfile sshd      "$BASE/sshd/sshd.pid"   # the listener; open sessions end with their connections
log "done"
