#!/usr/bin/env bash
# Builds the LDK interop harness (interop/ldk: a small Rust program on the crates.io `lightning`
# crate, pinned in its Cargo.toml and Cargo.lock) that test/interop/ drives with hex in and out.
#
# Everything lives in the cache outside the repo, like the LND binaries: cargo's target dir and one
# binary per source state, named by a hash of Cargo.toml, Cargo.lock and src/. A run whose binary is
# there and answers only checks that (well under a second); a cold build is a few minutes on 2 cores.
#
#   ASYNC_TRAMPOLINE_CACHE  cache dir (default ~/.cache/async-trampoline)
#   LDK_HARNESS_JOBS        cargo build jobs (default 2)
#   --print-path            print the binary's path on stdout when done (the tests use this)
#
# Output: ${cache}/bin/ldk-interop-<hash>; cargo's build files in ${cache}/ldk/target.
set -eEuo pipefail

INSTALL_NAME=install-ldk-harness
# shellcheck source-path=SCRIPTDIR source=lib/cache.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/cache.sh"
JOBS="${LDK_HARNESS_JOBS:-2}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CRATE="$ROOT/interop/ldk"
PRINT_PATH=0
for a in "$@"; do
  case "$a" in
    --print-path) PRINT_PATH=1 ;;
    *)
      echo "usage: $0 [--print-path]" >&2
      exit 2
      ;;
  esac
done

# One build, no named steps: the ERR trap names just the command.
trap 'log "FAILED (command: $BASH_COMMAND)"' ERR

[[ -f "$CRATE/Cargo.toml" && -f "$CRATE/Cargo.lock" ]] || fail "no harness crate at $CRATE"

# The source state: any change to the pin, the lock or the code gives a new binary name.
hash=$(cd "$CRATE" && find Cargo.toml Cargo.lock src -type f | LC_ALL=C sort | xargs sha256sum | sha256sum)
hash="${hash:0:16}"
BIN="$CACHE/bin/ldk-interop-$hash"

ok() { [[ -x "$BIN" ]] && "$BIN" version >/dev/null 2>&1; }

done_() {
  log "harness: $BIN ($("$BIN" version))"
  if [[ "$PRINT_PATH" == 1 ]]; then printf '%s\n' "$BIN"; fi
  exit 0
}

# Warm path without the lock: the binary is only ever put in place whole (mv).
if ok; then done_; fi

mkdir -p "$CACHE/bin" "$CACHE/ldk"
# One build at a time (parallel test runs, other worktrees sharing the cache).
cache_lock .lock-ldk-harness
if ok; then done_; fi

command -v cargo >/dev/null ||
  fail "cargo not found on PATH: the LDK interop tests need a Rust toolchain (rustup, Rust >= 1.75)"
log "cache $CACHE; $(cargo --version); building $CRATE (source hash $hash, -j$JOBS)"

export CARGO_TARGET_DIR="$CACHE/ldk/target"
start=$(date +%s)
# --locked: build exactly what Cargo.lock names, never a newer crate.
nice -n 10 cargo build --release --locked -j "$JOBS" --manifest-path "$CRATE/Cargo.toml" ||
  fail "cargo build failed (see above); a cold build needs crates.io"
log "cargo build: done in $(($(date +%s) - start))s"

cp "$CARGO_TARGET_DIR/release/ldk-interop" "$BIN.tmp"
mv "$BIN.tmp" "$BIN"
ok || fail "built harness does not run: $BIN version"
done_
