#!/usr/bin/env bash
# Start a single-node SLURM cluster on loopback for the tests: munged, slurmctld, slurmd.
#   tests/slurm/start.sh STATE_DIR
# Installs Debian's slurm-wlm and munge when missing (needs root), writes /etc/slurm/slurm.conf
# from slurm.conf.template (the jobstep plugin drops SLURM_CONF, so the file must be there),
# starts the daemons with their state, sockets, logs and pid files under STATE_DIR, and waits
# until the node is idle. tests/slurm/stop.sh STATE_DIR stops them by the PIDs recorded there.
set -euo pipefail

state=${1:?usage: tests/slurm/start.sh STATE_DIR}
here=$(cd "$(dirname "$0")" && pwd)
conf=/etc/slurm/slurm.conf
marker="# panneuro test cluster"

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    [ "$(id -u)" = 0 ] || { echo "start.sh: slurm-wlm/munge missing and not root; run: sudo apt-get install -y --no-install-recommends slurm-wlm munge" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurm-wlm munge >"$state.apt.log" 2>&1 \
        || { echo "start.sh: apt-get install slurm-wlm munge failed; see $state.apt.log (try apt-get update first)" >&2; exit 1; }
fi
if [ -e "$conf" ] && ! head -n 1 "$conf" | grep -q "^$marker"; then
    echo "start.sh: $conf exists and is not the test cluster's; move it away to run the SLURM test" >&2
    exit 1
fi

mkdir -p "$state/ctld" "$state/spool"
chmod 0755 "$state"
if ! runuser -u munge -- test -x "$state"; then
    echo "start.sh: the munge user cannot reach $state (a parent directory is private); use a state directory under /tmp" >&2
    exit 1
fi
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
cpus=$(nproc)
memory_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 8 / 10 ))
mkdir -p /etc/slurm
sed -e "s|@STATE@|$state|g" -e "s|@CTLD_PORT@|$(free_port)|" -e "s|@SLURMD_PORT@|$(free_port)|" \
    -e "s|@CPUS@|$cpus|" -e "s|@MEMORY_MB@|$memory_mb|" "$here/slurm.conf.template" >"$conf.tmp"
mv "$conf.tmp" "$conf"

# munge: its own key, socket and pid file under the state dir (no clash with a system munged).
munge_dir="$state/munge"
mkdir -p "$munge_dir"
key="$munge_dir/munge.key"
mungekey --create --keyfile="$key" --force 2>/dev/null || dd if=/dev/urandom of="$key" bs=1 count=1024 2>/dev/null
chown -R munge:munge "$munge_dir"
chmod 0755 "$munge_dir"
chmod 0400 "$key"
runuser -u munge -- munged --key-file="$key" --socket="$munge_dir/munge.socket" \
    --pid-file="$munge_dir/munged.pid" --log-file="$munge_dir/munged.log" \
    --seed-file="$munge_dir/munge.seed"

slurmctld
slurmd

for _ in $(seq 1 100); do
    if scontrol ping 2>/dev/null | grep -q UP && sinfo -h -o %T 2>/dev/null | grep -q idle; then
        echo "start.sh: cluster up ($cpus CPUs, $memory_mb MB) with state in $state"
        exit 0
    fi
    sleep 0.2
done
echo "start.sh: the node did not become idle in 20 s; see $state/slurmctld.log and $state/slurmd.log" >&2
exit 1
