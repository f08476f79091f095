#!/usr/bin/env bash
# Installs what building and testing need on a fresh Debian machine (as root).
set -euo pipefail
need=()
command -v gcc >/dev/null || need+=(gcc libc6-dev)
[ -x /bin/busybox ] || need+=(busybox-static)
[ -x /usr/bin/python3 ] || need+=(python3)
command -v unshare >/dev/null || need+=(util-linux)
command -v ps >/dev/null && command -v free >/dev/null || need+=(procps)
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v git >/dev/null || need+=(git)
command -v tar >/dev/null && command -v gzip >/dev/null || need+=(tar gzip)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v cargo >/dev/null || { echo "cargo is required (rustup)" >&2; exit 1; }
