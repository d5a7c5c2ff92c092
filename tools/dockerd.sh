#!/usr/bin/env bash
# A Docker engine for the container-kernel tests and a multi-user `make run`:
# `tools/dockerd.sh start` starts dockerd (unless one already answers) and waits until
# `docker info` answers; `tools/dockerd.sh stop` ends the one this script started.
# Flags as in the design: no iptables, no bridge (kernel containers use host networking),
# overlay2. Uses Debian's docker.io package; prints a line and exits 3 when it is not
# installed, 4 when we are not root (dockerd needs root), 1 when it does not come up.
set -euo pipefail
SOCK="${WORKBENCH_DOCKERD_SOCKET:-/var/run/docker.sock}"
DATA="${WORKBENCH_DOCKERD_DATA:-/var/lib/docker}"
EXEC="${WORKBENCH_DOCKERD_EXEC_ROOT:-/var/run/docker}"  # a second engine beside another needs its own
STATE="${WORKBENCH_DOCKERD_STATE:-${TMPDIR:-/tmp}/workbench-dockerd}"
PIDFILE="$STATE/dockerd.pid"
LOG="$STATE/dockerd.log"
export DOCKER_HOST="unix://$SOCK"

answers() { timeout 10 docker info >/dev/null 2>&1; }

case "${1:-start}" in
  start)
    command -v dockerd >/dev/null && command -v docker >/dev/null ||
      { echo "dockerd not installed (Debian package docker.io)" >&2; exit 3; }
    if answers; then echo "$DOCKER_HOST"; exit 0; fi
    [ "$(id -u)" = 0 ] || { echo "dockerd needs root; start it as root or point DOCKER_HOST at an engine" >&2; exit 4; }
    mkdir -p "$STATE"
    # A dockerd that died leaves its pid file behind and would refuse to start again.
    if [ -f "$PIDFILE" ] && ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then rm -f "$PIDFILE"; fi
    if [ ! -f "$PIDFILE" ]; then
      setsid dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver=overlay2 \
        --host "unix://$SOCK" --data-root "$DATA" --exec-root "$EXEC" --pidfile "$PIDFILE" >"$LOG" 2>&1 </dev/null &
      echo $! >"$PIDFILE.launch"
    fi
    for _ in $(seq 1 120); do
      if answers; then echo "$DOCKER_HOST"; exit 0; fi
      if [ -f "$PIDFILE.launch" ] && ! kill -0 "$(cat "$PIDFILE.launch")" 2>/dev/null; then break; fi
      sleep 0.5
    done
    echo "dockerd did not come up; its log ($LOG) ends with:" >&2
    tail -n 20 "$LOG" >&2 || true
    exit 1
    ;;
  stop)
    for f in "$PIDFILE" "$PIDFILE.launch"; do
      [ -f "$f" ] || continue
      pid="$(cat "$f")"
      if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      fi
      rm -f "$f"
    done
    ;;
  *)
    echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
