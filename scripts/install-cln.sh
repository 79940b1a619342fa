#!/usr/bin/env bash
# Builds the pinned Core Lightning (lightningd, lightning-cli and the built-in plugins) the CLN
# integration tests run against, from the complete source tarball in ../shared/cln/.
#
# Like install-nodes.sh: everything lives in the cache outside the repo, a second run only verifies
# what is there (seconds).
#
#   ASYNC_TRAMPOLINE_CACHE  cache dir (default ~/.cache/async-trampoline)
#   CLN_VERSION             tag of the source tarball (default v26.06.6)
#   CLN_SRC_TARBALL         the tarball (default: shared/cln/cln-<tag>-src.tar.gz next to the checkout)
#   CLN_JOBS                make -j (default 2)
#
# Output: the built tree in ${cache}/src/cln-<tag>/lightning-<tag> (lightningd runs from there: it
# finds its subdaemons and plugins next to itself), and ${cache}/manifest-cln.json naming it.
set -eEuo pipefail

INSTALL_NAME=install-cln
# shellcheck source-path=SCRIPTDIR source=lib/cache.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/cache.sh"
CLN_VERSION="${CLN_VERSION:-v26.06.6}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The shared directory sits next to the checkout (or next to its worktree directory).
if [[ -z "${CLN_SRC_TARBALL:-}" ]]; then
  for d in "$REPO/../shared/cln" "$REPO/../../shared/cln"; do
    if [[ -f "$d/cln-$CLN_VERSION-src.tar.gz" ]]; then
      CLN_SRC_TARBALL="$(cd "$d" && pwd)/cln-$CLN_VERSION-src.tar.gz"
      break
    fi
  done
fi
CLN_SRC_TARBALL="${CLN_SRC_TARBALL:-$REPO/../shared/cln/cln-$CLN_VERSION-src.tar.gz}"
CLN_JOBS="${CLN_JOBS:-2}"
# sha256 of the pinned tarball (../shared/cln/README.md).
declare -A CLN_SHA256=(
  [v26.06.6]=ea348c3db93eb8ebf7e489652861346df34b4566a897120f8683d0e3d9a926e0
)
# Debian packages the build needs (configure checks some of them only late, so check them all first).
DEB_PACKAGES=(build-essential autoconf automake libtool pkg-config libsqlite3-dev libsodium-dev
  zlib1g-dev gettext jq lowdown python3-mako git)

SRC="$CACHE/src"
DIR="$SRC/cln-$CLN_VERSION"
TREE="$DIR/lightning-$CLN_VERSION"
STAMP="$DIR/.stamp"
mkdir -p "$SRC"

# Its own lock: the LND build (install-nodes.sh) and this one may run side by side.
cache_lock .lock-cln

want_sha="${CLN_SHA256[$CLN_VERSION]:-}"
stamp_value() { echo "$CLN_VERSION $want_sha --disable-rust --disable-valgrind"; }

cln_ok() {
  stamp_is "$STAMP" "$(stamp_value)" &&
    [[ -x "$TREE/lightningd/lightningd" && -x "$TREE/cli/lightning-cli" ]] &&
    "$TREE/lightningd/lightningd" --version 2>/dev/null | grep -qx "$CLN_VERSION"
}

write_manifest() {
  {
    printf '{\n  "cache": "%s",\n  "cln": {\n' "$CACHE"
    printf '    "%s": { "lightningd": "%s", "lightning-cli": "%s", "src": "%s" }\n' "$CLN_VERSION" \
      "$TREE/lightningd/lightningd" "$TREE/cli/lightning-cli" "$TREE"
    printf '  }\n}\n'
  } | write_atomically "$CACHE/manifest-cln.json"
  log "manifest: $CACHE/manifest-cln.json"
}

if cln_ok; then
  log "lightningd $CLN_VERSION cached: $TREE/lightningd/lightningd"
  write_manifest
  exit 0
fi

install_packages() {
  local missing=()
  for p in "${DEB_PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  log "missing Debian packages: ${missing[*]}"
  command -v apt-get >/dev/null || fail "install these packages: ${missing[*]}"
  local sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  x "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive x "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}

extract() {
  [[ -f "$CLN_SRC_TARBALL" ]] || fail "no source tarball at $CLN_SRC_TARBALL (set CLN_SRC_TARBALL)"
  if [[ -n "$want_sha" ]]; then
    local got
    got=$(sha256sum "$CLN_SRC_TARBALL" | cut -d' ' -f1)
    [[ "$got" == "$want_sha" ]] || fail "$CLN_SRC_TARBALL has sha256 $got, pinned $want_sha"
  fi
  rm -rf "$DIR.tmp" "$DIR"
  mkdir -p "$DIR.tmp"
  x tar -xzf "$CLN_SRC_TARBALL" -C "$DIR.tmp"
  [[ -d "$DIR.tmp/lightning-$CLN_VERSION" ]] || fail "tarball has no top directory lightning-$CLN_VERSION"
  mv "$DIR.tmp" "$DIR"
}

# The system python3 (with python3-mako) first on PATH: configure otherwise looks for uv or a venv.
PY_DIR="$(dirname "$(command -v python3 || echo /usr/bin/python3)")"
build_env=(env "PATH=/usr/bin:$PY_DIR:$PATH" PYTHON=python3)

configure() {
  (cd "$TREE" && x "${build_env[@]}" ./configure --disable-rust --disable-valgrind)
}

compile() {
  (cd "$TREE" && x "${build_env[@]}" make -j"$CLN_JOBS" all-programs)
}

run "Debian build packages" install_packages
# An interrupted earlier build resumes in its tree (make only redoes what is missing).
if [[ ! -d "$TREE" ]]; then
  run "extract $(basename "$CLN_SRC_TARBALL")" extract
fi
run "configure lightningd $CLN_VERSION" configure
run "make -j$CLN_JOBS all-programs" compile
stamp_value >"$STAMP"
cln_ok || fail "built lightningd does not report $CLN_VERSION: $TREE/lightningd/lightningd --version"
log "lightningd: $("$TREE/lightningd/lightningd" --version)"
write_manifest
log "lightningd ready in $(($(date +%s) - T0))s"
