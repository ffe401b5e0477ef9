#!/usr/bin/env bash
# Installs what shoal and its tests need on Debian, as root.
set -euo pipefail
need=()
command -v containerd >/dev/null || need+=(containerd)
command -v runc >/dev/null || need+=(runc)
command -v ip >/dev/null || need+=(iproute2)
# The service proxy (agent/node/svcproxy) programs its table with nft.
command -v nft >/dev/null || [ -x /usr/sbin/nft ] || need+=(nftables)
[ -x /bin/busybox ] && /bin/busybox --list >/dev/null 2>&1 && ldd /bin/busybox 2>&1 | grep -q "not a dynamic" || need+=(busybox-static)
command -v nsenter >/dev/null || need+=(util-linux)
command -v pgrep >/dev/null || need+=(procps)
# The registry tests (e2e/registry_test.go, podruntime) run a real registry and push with skopeo.
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v skopeo >/dev/null || need+=(skopeo)
# `shoal lab up --machines`: systemd machines built with debootstrap.
command -v systemd-nspawn >/dev/null || need+=(systemd-container)
command -v debootstrap >/dev/null || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}"
fi
if ! command -v go >/dev/null && [ ! -x /usr/local/go/bin/go ]; then
  echo "Go is not installed: install Go 1.26 (or Debian's golang-go if new enough)" >&2
  exit 1
fi
