# shellcheck shell=bash
# What the install scripts share: the cache directory, logging, timed steps, the cache lock and
# stamp/manifest files. Source it after `set -eEuo pipefail` with INSTALL_NAME set (the log prefix).
#
#   ASYNC_TRAMPOLINE_CACHE  cache dir (default ~/.cache/async-trampoline)

CACHE="${ASYNC_TRAMPOLINE_CACHE:-$HOME/.cache/async-trampoline}"

T0=$(date +%s)
log() { printf '[%s %4ss] %s\n' "$INSTALL_NAME" "$(($(date +%s) - T0))" "$*" >&2; }

fail() {
  log "ERROR: $*"
  exit 1
}

# x <command...>: runs one external command; on failure names it (expanded) and stops.
x() {
  "$@" || {
    local rc=$?
    log "FAILED (exit $rc): $*"
    exit "$rc"
  }
}

# run <description> <command...>: one timed step. Failures inside it stop the script via x or the
# ERR trap, which names the step.
STEP=setup
trap 'log "FAILED during step: $STEP (command: $BASH_COMMAND)"' ERR
run() {
  local desc="$1"
  shift
  local start
  start=$(date +%s)
  STEP="$desc"
  log "$desc ..."
  "$@"
  log "$desc: done in $(($(date +%s) - start))s"
}

# cache_lock <name>: holds $CACHE/<name> (fd 9) until the script exits, so two runs sharing the cache
# (parallel tests, other worktrees) never build into the same files.
cache_lock() {
  exec 9>"$CACHE/$1"
  flock 9
}

# stamp_is <file> <value>: the stamp a finished build left says exactly <value>.
stamp_is() { [[ -f "$1" && "$(cat "$1")" == "$2" ]]; }

# write_atomically <file>: stdin into <file> through a temporary, so readers never see half of it.
write_atomically() {
  cat >"$1.tmp"
  mv "$1.tmp" "$1"
}
