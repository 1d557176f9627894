#!/usr/bin/env bash
# Debian packages the sandbox needs: bubblewrap (local backend), g++ (C++ programs),
# docker.io and debootstrap (Docker backend and its image, built without a registry).
# Installs only what is missing; needs root (CI runs as root) and otherwise just reports.
set -euo pipefail
missing=()
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v patch >/dev/null 2>&1 || missing+=(patch)  # SWE patch cascade
command -v git >/dev/null 2>&1 || missing+=(git)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "system_deps: missing ${missing[*]} (install them as root); sandbox tests will be skipped" >&2
  exit 0
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
