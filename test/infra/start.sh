#!/bin/bash
# test/infra/start.sh - loopback-only test infrastructure for the SSH (and optionally Slurm) targets.
#
# Starts, under $BASE, on 127.0.0.1 with a random port: an OpenSSH sshd with its own config,
# an ed25519 host key and an ed25519 client key, for the unprivileged user $TEST_USER (elptest).
# With WITH_SLURM=1 also munged + a one-node Slurm (slurmctld + slurmd, batch_sched_delay=0).
# Writes $BASE/env.sh (source it) and $BASE/env.json (the same values, for tests):
#   TEST_SSH_HOST TEST_SSH_PORT TEST_SSH_USER TEST_SSH_KEY TEST_SSH_KNOWN_HOSTS TEST_SSH_HOST_KEY_PUB
#   TEST_SSH_OPTS (for the ssh client) and, with Slurm, SLURM_CONF.
# Runs as root (useradd, sshd). Installs openssh-server (and slurm-wlm munge with WITH_SLURM=1)
# with apt-get when missing. Idempotent: if sshd from this $BASE is already running, it only
# re-prints the env and exits 0. Stop with test/infra/stop.sh (by PID files).
set -euo pipefail

BASE=${BASE:-/tmp/elp-test-infra}
TEST_USER=${TEST_USER:-elptest}
WITH_SLURM=${WITH_SLURM:-0}
t0=$(date +%s%N)
log() { echo "[infra start +$(( ($(date +%s%N) - t0) / 1000000 ))ms] $*"; }
die() { echo "[infra start] ERROR: $*" >&2; exit 1; }

case "$BASE" in
  /*) ;; *) die "BASE must be an absolute path (got '$BASE')" ;;
esac
[[ "$BASE" =~ ^/[A-Za-z0-9._/-]+$ ]] || die "BASE may only contain [A-Za-z0-9._/-] (got '$BASE')"
[ "$BASE" != / ] && [ "${#BASE}" -ge 6 ] || die "refusing BASE '$BASE'"
[[ "$TEST_USER" =~ ^[a-z_][a-z0-9_-]*$ ]] || die "bad TEST_USER '$TEST_USER'"
[ "$(id -u)" = 0 ] || die "must run as root (creates user $TEST_USER, starts sshd)"

# ---- already running? ------------------------------------------------------------------------
alive_as() {  # pidfile comm -> 0 if the process in pidfile is alive and named comm
  local p
  [ -s "$1" ] || return 1
  p=$(cat "$1")
  [[ "$p" =~ ^[0-9]+$ ]] || return 1
  [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$2" ]
}
if alive_as "$BASE/sshd/sshd.pid" sshd && [ -s "$BASE/env.sh" ]; then
  if [ "$WITH_SLURM" != 1 ] || alive_as "$BASE/slurm/run/slurmctld.pid" slurmctld; then
    log "already running (sshd pid $(cat "$BASE/sshd/sshd.pid")): source $BASE/env.sh"
    exit 0
  fi
fi
if [ -x "$(dirname "$0")/stop.sh" ]; then BASE="$BASE" "$(dirname "$0")/stop.sh" >/dev/null 2>&1 || true; fi

# ---- packages --------------------------------------------------------------------------------
APT=(apt-get -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
apt_install() {
  command -v apt-get >/dev/null || die "need $* but apt-get is not available; install it yourself"
  # Never let the package's maintainer scripts start a system-wide sshd/slurmd on port 22 & co.
  local made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 0755 /usr/sbin/policy-rc.d; made_policy=1; fi
  local rc=0
  if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then "${APT[@]}" update -q || true; fi
  DEBIAN_FRONTEND=noninteractive "${APT[@]}" install -y -q --no-install-recommends "$@" || {
    "${APT[@]}" update -q && DEBIAN_FRONTEND=noninteractive "${APT[@]}" install -y -q --no-install-recommends "$@"; } || rc=$?
  [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  [ "$rc" = 0 ] || die "apt-get install $* failed"
  log "installed: $*"
}
[ -x /usr/sbin/sshd ] || apt_install openssh-server
command -v ssh-keygen >/dev/null || apt_install openssh-client
if [ "$WITH_SLURM" = 1 ]; then
  { [ -x /usr/sbin/slurmctld ] && [ -x /usr/sbin/munged ]; } || apt_install slurm-wlm munge
fi

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
freeport() {  # lo hi -> a port in [lo, hi] nobody listens on (outside the ephemeral range)
  local p
  for _ in $(seq 200); do
    p=$(( $1 + RANDOM % ($2 - $1 + 1) ))
    port_in_use "$p" || { echo "$p"; return 0; }
  done
  die "no free port in $1-$2"
}
waitfor() {  # what tries(×0.1s) cmd...
  local what=$1 tries=$2; shift 2
  for _ in $(seq "$tries"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "timeout waiting for $what"
}

# ---- layout ----------------------------------------------------------------------------------
mkdir -p "$BASE"
rm -rf "$BASE/sshd" "$BASE/client" "$BASE/log" "$BASE/munge" "$BASE/slurm" "$BASE/env.sh" "$BASE/env.json"
mkdir -p "$BASE"/{sshd/authorized_keys,client,log}
chmod 0755 "$BASE" "$BASE/sshd" "$BASE/sshd/authorized_keys"   # sshd reads authorized keys as the user

# ---- user ------------------------------------------------------------------------------------
id "$TEST_USER" >/dev/null 2>&1 || useradd -m -s /bin/bash "$TEST_USER"
usermod -p '*' "$TEST_USER"    # a locked ('!') account is refused by sshd when UsePAM=no

# ---- sshd ------------------------------------------------------------------------------------
mkdir -p /run/sshd && chmod 0755 /run/sshd   # privilege-separation dir
ssh-keygen -q -t ed25519 -N '' -C elp-test-host   -f "$BASE/sshd/ssh_host_ed25519_key"
ssh-keygen -q -t ed25519 -N '' -C elp-test-client -f "$BASE/client/id_ed25519"
install -m 0644 "$BASE/client/id_ed25519.pub" "$BASE/sshd/authorized_keys/$TEST_USER"
SSH_PORT=
for attempt in 1 2 3 4 5; do
  port=$(freeport 20000 24999)
  cat > "$BASE/sshd/sshd_config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $BASE/sshd/ssh_host_ed25519_key
PidFile $BASE/sshd/sshd.pid
AuthorizedKeysFile $BASE/sshd/authorized_keys/%u
AllowUsers $TEST_USER
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin no
# keys live under /tmp (mode 1777), which StrictModes yes rejects
StrictModes no
X11Forwarding no
Subsystem sftp internal-sftp
$( [ "$WITH_SLURM" = 1 ] && echo "SetEnv SLURM_CONF=$BASE/slurm/slurm.conf" )
LogLevel VERBOSE
EOF
  /usr/sbin/sshd -t -f "$BASE/sshd/sshd_config"
  # absolute path required (sshd re-execs itself); it exits non-zero if it cannot bind
  if /usr/sbin/sshd -f "$BASE/sshd/sshd_config" -E "$BASE/log/sshd.log"; then SSH_PORT=$port; break; fi
  log "sshd failed to start on port $port (attempt $attempt), retrying"
done
[ -n "$SSH_PORT" ] || die "sshd did not start; see $BASE/log/sshd.log"
waitfor "sshd pid file" 50 test -s "$BASE/sshd/sshd.pid"
waitfor "sshd listening" 50 port_in_use "$SSH_PORT"
echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$BASE/sshd/ssh_host_ed25519_key.pub")" > "$BASE/client/known_hosts"
log "sshd pid $(cat "$BASE/sshd/sshd.pid") on 127.0.0.1:$SSH_PORT (user $TEST_USER)"

# ---- munge + slurm (optional) ----------------------------------------------------------------
SLURM_CONF_LINE=
if [ "$WITH_SLURM" = 1 ]; then
  M="$BASE/munge"; S="$BASE/slurm"
  mkdir -p "$M" "$S"/{state,spool,log,run}
  chown munge:munge "$M"; chmod 0711 "$M"      # the socket dir must be o+x
  runuser -u munge -- mungekey -c -k "$M/munge.key"
  runuser -u munge -- /usr/sbin/munged --socket="$M/munge.socket.2" --key-file="$M/munge.key" \
    --log-file="$M/munged.log" --pid-file="$M/munged.pid" --seed-file="$M/munged.seed"
  waitfor munge 50 sh -c "munge --socket=$M/munge.socket.2 -n | unmunge --socket=$M/munge.socket.2"
  log "munged pid $(cat "$M/munged.pid")"
  CTLD_PORT=$(freeport 25000 27499); SLURMD_PORT=$(freeport 27500 29999)
  cat > "$S/slurm.conf" <<EOF
ClusterName=elptest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$M/munge.socket.2
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/run/slurmctld.pid
SlurmdPidFile=$S/run/slurmd.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$S/log/jobcomp.log
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MinJobAge=300
KillWait=5
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF="$S/slurm.conf"
  /usr/sbin/slurmctld -f "$SLURM_CONF"
  /usr/sbin/slurmd -f "$SLURM_CONF" -N localhost
  waitfor "slurmctld ping" 100 sh -c 'scontrol ping | grep -q UP'
  waitfor "node idle" 300 sh -c '[ "$(sinfo -h -n localhost -o %T)" = idle ]'
  # slurmctld's first scheduling pass comes ~3 s after start: wait for a warm-up job
  WJ=$(sbatch --parsable -J warmup -o /dev/null --wrap=true)
  waitfor "warm-up job $WJ" 600 sh -c "[ -z \"\$(squeue -h -j $WJ)\" ]"
  log "slurmctld pid $(cat "$S/run/slurmctld.pid") :$CTLD_PORT, slurmd pid $(cat "$S/run/slurmd.pid") :$SLURMD_PORT, warm-up job done"
  SLURM_CONF_LINE="export SLURM_CONF=$SLURM_CONF"
fi

# ---- env -------------------------------------------------------------------------------------
cat > "$BASE/env.sh.tmp" <<EOF
export TEST_INFRA_BASE=$BASE
export TEST_SSH_HOST=127.0.0.1 TEST_SSH_PORT=$SSH_PORT TEST_SSH_USER=$TEST_USER
export TEST_SSH_KEY=$BASE/client/id_ed25519 TEST_SSH_KNOWN_HOSTS=$BASE/client/known_hosts
export TEST_SSH_HOST_KEY_PUB=$BASE/sshd/ssh_host_ed25519_key.pub
export TEST_SSH_OPTS="-p $SSH_PORT -i $BASE/client/id_ed25519 -o UserKnownHostsFile=$BASE/client/known_hosts -o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes"
$SLURM_CONF_LINE
EOF
cat > "$BASE/env.json.tmp" <<EOF
{"TEST_INFRA_BASE": "$BASE", "TEST_SSH_HOST": "127.0.0.1", "TEST_SSH_PORT": "$SSH_PORT",
 "TEST_SSH_USER": "$TEST_USER", "TEST_SSH_KEY": "$BASE/client/id_ed25519",
 "TEST_SSH_KNOWN_HOSTS": "$BASE/client/known_hosts", "TEST_SSH_HOST_KEY_PUB": "$BASE/sshd/ssh_host_ed25519_key.pub",
 "SLURM_CONF": "$( [ "$WITH_SLURM" = 1 ] && echo "$BASE/slurm/slurm.conf" )"}
EOF
mv "$BASE/env.sh.tmp" "$BASE/env.sh"; mv "$BASE/env.json.tmp" "$BASE/env.json"
log "ready: source $BASE/env.sh"
