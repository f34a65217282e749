# Background processes that outlive the script that started them, tracked by a pid file.
# Sourced by scripts/stack.sh and scripts/engine.sh; uses their `log` and `die`.

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Starts "$@" in DIR, in its own session (so it outlives the shell that started it and is not hit
# by signals sent to that shell's process group), with its pid in DIR/pid and output in DIR/stdout.log.
# The pid is written by the process itself just before exec, so it is the pid of "$@" (a JVM, say),
# whether or not setsid had to fork.
detach() {
  local dir="$1"; shift
  rm -f "$dir/pid"
  # Every fd of the whole subshell is redirected, so nothing keeps a caller's $(…) pipe open.
  (cd "$dir" && exec setsid bash -c 'echo $$ > pid; exec "$@"' "convoy-$(basename "$dir")" "$@") > "$dir/stdout.log" 2>&1 < /dev/null &
  for _ in $(seq 1 50); do [ -s "$dir/pid" ] && return 0; sleep 0.1; done
  die "could not start $* (no pid file in $dir)"
}

# Stops what `detach` started in DIR: SIGTERM, then SIGKILL if it has not exited after TRIES checks
# INTERVAL seconds apart. Removes DIR/pid; does nothing else when the process is not running.
stop_detached() {
  local dir="$1" name="$2" tries="$3" interval="$4" pidfile="$1/pid"
  if ! pid_alive "$pidfile"; then rm -f "$pidfile"; return 0; fi
  local pid; pid="$(cat "$pidfile")"
  log "stopping $name (pid $pid)"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 "$tries"); do kill -0 "$pid" 2>/dev/null || break; sleep "$interval"; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}
