#!/usr/bin/env bash
# Debian tools the full test suite uses besides the real nodes: docker-compose validates
# docker-compose.yml (`docker-compose config`; no Docker engine is needed for that).
set -euo pipefail
log() { printf '[install-tools] %s\n' "$*" >&2; }

if command -v docker-compose >/dev/null 2>&1; then
  log "docker-compose present: $(docker-compose version --short 2>/dev/null || echo unknown)"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  log "docker-compose missing and no apt-get here: the compose file test will be skipped"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
log "installing docker-compose (Debian package)"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq docker-compose >/dev/null
log "docker-compose $(docker-compose version --short 2>/dev/null || echo installed)"
