#!/usr/bin/env bash
# Build rlvr's sandbox image without any registry: debootstrap a minimal Debian with the
# language runtimes, then `docker import` it.  Usage: scripts/docker_image.sh [IMAGE]
# Needs root, debootstrap and a running Docker daemon.  Skips the build if IMAGE exists.
set -euo pipefail
image="${1:-rlvr/sandbox:bookworm}"
if docker image inspect "$image" >/dev/null 2>&1; then
  echo "docker_image: $image already exists"
  exit 0
fi
rootfs=$(mktemp -d /var/tmp/rlvr-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase --include=python3-minimal,g++,procps bookworm "$rootfs" \
  "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >/dev/null
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar -C "$rootfs" -c . | docker import -c 'ENV PATH=/usr/bin:/bin' - "$image" >/dev/null
echo "docker_image: built $image"
