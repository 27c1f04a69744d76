#!/usr/bin/env bash
# Stop the test cluster started by tests/slurm/start.sh STATE_DIR: every daemon by the PID in
# its pid file (slurmd, slurmctld, munged), then remove the test's /etc/slurm/slurm.conf.
#   tests/slurm/stop.sh STATE_DIR
set -uo pipefail

state=${1:?usage: tests/slurm/stop.sh STATE_DIR}
conf=/etc/slurm/slurm.conf
status=0
for pidfile in "$state/slurmd.pid" "$state/slurmctld.pid" "$state/munge/munged.pid"; do
    daemon=$(basename "$pidfile" .pid)
    [ -s "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        echo "stop.sh: $daemon (pid $pid) did not stop on TERM; killed" >&2
        status=1
    fi
done
if [ -e "$conf" ] && head -n 1 "$conf" | grep -q "^# panneuro test cluster"; then
    rm -f "$conf"
fi
exit $status
