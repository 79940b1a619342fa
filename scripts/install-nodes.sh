#!/usr/bin/env bash
# Builds the pinned btcd and LND binaries the integration tests, demo and benchmarks run against.
#
# Everything lives in a cache outside the repo (binaries, LND sources, Go module and build caches) so
# CI can cache one directory and a second run only verifies what is there (seconds).
#
#   ASYNC_TRAMPOLINE_CACHE  cache dir (default ~/.cache/async-trampoline)
#   BTCD_VERSION            btcd module version (default v0.26.0)
#   LND_VERSIONS            space-separated LND tags to build (default: both pinned tags)
#
# Output: ${cache}/bin/{btcd,btcctl}-<ver>, ${cache}/bin/{lnd,lncli}-<tag>, LND sources in
# ${cache}/src/lnd-<tag>, and ${cache}/manifest.json naming all of them.
set -eEuo pipefail

INSTALL_NAME=install-nodes
# shellcheck source-path=SCRIPTDIR source=lib/cache.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/cache.sh"
BTCD_VERSION="${BTCD_VERSION:-v0.26.0}"
# 0.20.2 is the newest 0.20 tag the Go module proxy serves (it refuses v0.20.3-beta's zip).
read -r -a LND_LIST <<<"${LND_VERSIONS:-v0.21.2-beta v0.20.2-beta}"
# The sidecar needs signrpc (DeriveSharedKey), chainrpc (block epochs), invoicesrpc, walletrpc and
# peersrpc; routerrpc is always compiled in. The sidecar checks these at start via GetInfo/verrpc.
LND_BUILD_TAGS="signrpc walletrpc chainrpc invoicesrpc peersrpc"
LND_PKG=github.com/lightningnetwork/lnd

# Commits the pinned tags must resolve to, whichever way the source is fetched.
declare -A LND_COMMIT=(
  [v0.21.2-beta]=29257ecc8892af0c882fa627b66a556190c84fd9
  [v0.20.2-beta]=c863397a4fcad321c8d1ca5a1c03336b688dcb4c
)

BIN="$CACHE/bin"
SRC="$CACHE/src"
mkdir -p "$BIN" "$SRC" "$CACHE/go"
# Own module/build caches: kept with the binaries, and -modcacherw so the cache can be deleted.
export GOMODCACHE="$CACHE/go/mod"
export GOCACHE="$CACHE/go/build"
export GOFLAGS="-buildvcs=false -modcacherw"
export CGO_ENABLED=0

command -v go >/dev/null || fail "go not found on PATH (need Go >= 1.25 to build btcd and LND)"
log "cache $CACHE; $(go version)"

# Concurrent runs (parallel test invocations) must not build into the same files.
cache_lock .lock

# --- btcd -------------------------------------------------------------------------------------------

btcd_bin="$BIN/btcd-$BTCD_VERSION"
btcctl_bin="$BIN/btcctl-$BTCD_VERSION"
btcd_stamp="$BIN/.stamp-btcd-$BTCD_VERSION"

btcd_ok() {
  [[ -x "$btcd_bin" && -x "$btcctl_bin" ]] && stamp_is "$btcd_stamp" "$BTCD_VERSION" &&
    "$btcd_bin" --version >/dev/null 2>&1 && "$btcctl_bin" --version >/dev/null 2>&1
}

build_btcd() {
  local tmp="$CACHE/tmp-btcd"
  rm -rf "$tmp" && mkdir -p "$tmp"
  GOBIN="$tmp" x go install -trimpath \
    "github.com/btcsuite/btcd@$BTCD_VERSION" "github.com/btcsuite/btcd/cmd/btcctl@$BTCD_VERSION"
  mv "$tmp/btcd" "$btcd_bin"
  mv "$tmp/btcctl" "$btcctl_bin"
  rm -rf "$tmp"
  echo "$BTCD_VERSION" >"$btcd_stamp"
}

if btcd_ok; then
  log "btcd $BTCD_VERSION cached: $("$btcd_bin" --version 2>&1 | head -1)"
else
  run "build btcd + btcctl $BTCD_VERSION (go install)" build_btcd
  btcd_ok || fail "built btcd does not run: $btcd_bin --version"
  log "btcd: $("$btcd_bin" --version 2>&1 | head -1)"
fi

# --- LND --------------------------------------------------------------------------------------------

# fetch_lnd_src <tag> <dir>: a writable copy of the tag's source tree from the Go module proxy
# (content verified by the checksum database).
fetch_lnd_src() {
  local tag="$1" dir="$2" want="${LND_COMMIT[$1]:-}"
  local json moddir
  rm -rf "$dir.tmp"
  if ! json=$(go mod download -json "$LND_PKG@$tag" 2>&1); then
    log "the Go module proxy did not serve $LND_PKG@$tag:"
    printf '%s\n' "$json" | sed 's/^/    /' >&2
    return 1
  fi
  moddir=$(printf '%s' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [[ -n "$moddir" ]] || { log "go mod download gave no Dir for $tag"; return 1; }
  local hash
  hash=$(printf '%s' "$json" | sed -n 's/^[[:space:]]*"Hash": "\([0-9a-f]*\)",\{0,1\}$/\1/p' | head -1)
  if [[ -n "$want" && -n "$hash" && "$hash" != "$want" ]]; then
    log "module proxy says $tag is commit $hash, pinned $want"
    return 1
  fi
  # The module cache copy is read-only; a writable copy lets go build run there and gives other
  # tools (the proto comparison test) a stable path.
  cp -r "$moddir" "$dir.tmp"
  chmod -R u+w "$dir.tmp"
  rm -rf "$dir"
  mv "$dir.tmp" "$dir"
  echo "$want" >"$dir/.source-commit"
}

lnd_stamp_value() { echo "$1 ${LND_COMMIT[$1]:-} $LND_BUILD_TAGS"; }

lnd_ok() {
  local tag="$1"
  [[ -x "$BIN/lnd-$tag" && -x "$BIN/lncli-$tag" && -d "$SRC/lnd-$tag" ]] &&
    stamp_is "$BIN/.stamp-lnd-$tag" "$(lnd_stamp_value "$tag")" &&
    "$BIN/lnd-$tag" --version 2>&1 | grep -q "commit=$tag" &&
    "$BIN/lncli-$tag" --version 2>&1 | grep -q "commit=$tag"
}

build_lnd() {
  local tag="$1"
  local dir="$SRC/lnd-$tag"
  local commit="${LND_COMMIT[$tag]:-}"
  # Commit shows in `lnd --version` / GetInfo.version ("0.21.2-beta commit=v0.21.2-beta"), CommitHash
  # in verrpc; the build tags are read from the binary's build info, so -tags alone sets them.
  local ldflags="-X $LND_PKG/build.Commit=$tag -X $LND_PKG/build.CommitHash=$commit"
  x go -C "$dir" build -trimpath -tags "$LND_BUILD_TAGS" -ldflags "$ldflags" -o "$BIN/lnd-$tag.tmp" ./cmd/lnd
  x go -C "$dir" build -trimpath -tags "$LND_BUILD_TAGS" -ldflags "$ldflags" -o "$BIN/lncli-$tag.tmp" ./cmd/lncli
  mv "$BIN/lnd-$tag.tmp" "$BIN/lnd-$tag"
  mv "$BIN/lncli-$tag.tmp" "$BIN/lncli-$tag"
  lnd_stamp_value "$tag" >"$BIN/.stamp-lnd-$tag"
}

for tag in "${LND_LIST[@]}"; do
  if lnd_ok "$tag"; then
    log "lnd $tag cached: $("$BIN/lnd-$tag" --version 2>&1 | head -1)"
    continue
  fi
  src_dir="$SRC/lnd-$tag"
  if ! stamp_is "$src_dir/.source-commit" "${LND_COMMIT[$tag]:-}"; then
    run "fetch lnd $tag source" fetch_lnd_src "$tag" "$src_dir"
  fi
  # Dependencies first, so a network problem is reported apart from a compile problem.
  run "download lnd $tag dependencies" x go -C "$src_dir" mod download
  run "build lnd + lncli $tag (tags: $LND_BUILD_TAGS)" build_lnd "$tag"
  lnd_ok "$tag" || fail "built lnd $tag does not report commit=$tag: $BIN/lnd-$tag --version"
  log "lnd: $("$BIN/lnd-$tag" --version 2>&1 | head -1)"
done

# --- manifest ---------------------------------------------------------------------------------------

# JSON the TypeScript side (scripts/regtest) and proto-comparison tests read to find everything.
# It names every verified LND in the cache, not only LND_LIST: `npm run demo` installs just its one
# version and must not hide the other from the tests.
MANIFEST_TAGS=()
for tag in "${LND_LIST[@]}" "${!LND_COMMIT[@]}"; do
  [[ " ${MANIFEST_TAGS[*]} " == *" $tag "* ]] && continue
  lnd_ok "$tag" && MANIFEST_TAGS+=("$tag")
done
{
  printf '{\n  "cache": "%s",\n' "$CACHE"
  printf '  "btcd": { "version": "%s", "btcd": "%s", "btcctl": "%s" },\n' \
    "$BTCD_VERSION" "$btcd_bin" "$btcctl_bin"
  printf '  "lndBuildTags": "%s",\n  "lnd": {' "$LND_BUILD_TAGS"
  sep=''
  for tag in "${MANIFEST_TAGS[@]}"; do
    printf '%s\n    "%s": { "lnd": "%s", "lncli": "%s", "src": "%s", "commit": "%s" }' "$sep" \
      "$tag" "$BIN/lnd-$tag" "$BIN/lncli-$tag" "$SRC/lnd-$tag" "${LND_COMMIT[$tag]:-}"
    sep=','
  done
  printf '\n  }\n}\n'
} | write_atomically "$CACHE/manifest.json"
for tag in "${LND_LIST[@]}"; do log "lnd $tag source: $SRC/lnd-$tag"; done
log "manifest: $CACHE/manifest.json"
log "all nodes ready in $(($(date +%s) - T0))s"
