#!/usr/bin/env bash
# Quick start on a fresh Debian machine, as root: install what is missing,
# build shoal, bring up a 3-node lab fleet "demo" and run a pod on it.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH=/usr/local/go/bin:$PATH
./deploy/lab/install-deps.sh
# no_dynamic_plugins and -s -w: see BUILDTAGS and BUILDFLAGS in the Makefile.
go build -trimpath -ldflags="-s -w" -tags no_dynamic_plugins -o bin/shoal ./cmd/shoal
install -m 0755 bin/shoal /usr/local/bin/shoal
./bin/shoal lab down demo >/dev/null 2>&1 || true
./bin/shoal lab up demo --nodes 3 --node-memory 1.25Gi,2Gi,2Gi
eval "$(./bin/shoal lab env demo)"
./bin/shoal image build-busybox -o bin/busybox.tar
./bin/shoal image import bin/busybox.tar
./bin/shoal apply -f examples/app-with-logs.yaml
for _ in $(seq 1 60); do
  if ./bin/shoal get pod app-with-logs -o json | grep -q '"phase": "Running"'; then break; fi
  sleep 1
done
./bin/shoal get nodes -o wide
./bin/shoal get pods -o wide
cat <<MSG

The lab fleet "demo" is up with a pod running. Point your shell at it:
  eval "\$(./bin/shoal lab env demo)"
  ./bin/shoal get pods -o wide
Remove it with:
  ./bin/shoal lab down demo
MSG
