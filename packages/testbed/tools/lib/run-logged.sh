# Sourced by the test bed's build scripts, which define log().
# run_logged <name> <log dir> <command...>: runs a step with its output in <log dir>/<name>.log,
# printing a heartbeat every 15 s so a long cold build never looks hung; on failure, the log's
# last lines go to stderr.
run_logged() {
  local name="$1" logfile="$2/$1.log"; shift 2
  ( "$@" ) >"$logfile" 2>&1 &
  local pid=$! start=$SECONDS
  while kill -0 "$pid" 2>/dev/null; do
    # Poll each second, so a finished step returns at once rather than after the heartbeat.
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do kill -0 "$pid" 2>/dev/null && sleep 1; done
    kill -0 "$pid" 2>/dev/null && log "  $name: still running ($((SECONDS - start))s, log: $logfile)"
  done
  if ! wait "$pid"; then
    log "  $name failed; last lines of $logfile:"
    tail -n 40 "$logfile" >&2
    return 1
  fi
}
