#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian/Ubuntu machine (idempotent).
set -euo pipefail
need=()
command -v mvn >/dev/null 2>&1 || need+=(maven)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}"
  else
    echo "ci-setup: missing packages: ${need[*]} (install them with your package manager)" >&2
    exit 1
  fi
fi
