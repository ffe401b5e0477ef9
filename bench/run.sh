#!/usr/bin/env bash
# Runs shoal's benchmarks and regenerates BENCHMARKS.md from their results.
#
#   bench/run.sh [all|micro|lab]     (make bench = all, make bench-lab = lab)
#
# micro: placement and Raft (go test -bench, -count BENCH_COUNT, default 5).
# lab:   the e2e lab benchmarks (root, containerd; SHOAL_BENCH_RUNS repeats).
# Raw results go to bench/results/ (kept in git, so the report can be
# regenerated and checked); the report is written from whatever is there.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
what=${1:-all}
results=bench/results
mkdir -p "$results"

machine() {
	echo "date:    $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "cpu:     $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
	echo "nproc:   $(nproc)"
	echo "memory:  $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
	echo "kernel:  $(uname -r)"
	echo "go:      $(go version | cut -d' ' -f3)"
	echo "commit:  $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min, at start)"
}

case $what in
all | micro | lab) ;;
*)
	echo "usage: $0 [all|micro|lab]" >&2
	exit 2
	;;
esac

if [[ $what == all || $what == micro ]]; then
	count=${BENCH_COUNT:-5}
	machine >"$results/machine.txt"
	echo "== placement (count $count)" >&2
	go test -run XXX -bench Choose -benchtime 2s -count "$count" -cpu 1 ./placement/ | tee "$results/micro.txt"
	echo "== leader placement step (count ${BENCH_LEADER_COUNT:-3})" >&2
	go test -run XXX -bench LeaderPlacement -benchtime 1s -count "${BENCH_LEADER_COUNT:-3}" -cpu 1 ./consensus/ | tee -a "$results/micro.txt"
	echo "== raft apply (count $count)" >&2
	go test -run XXX -bench RaftApply -benchtime 3s -count "$count" ./consensus/ | tee -a "$results/micro.txt"
fi

if [[ $what == all || $what == lab ]]; then
	if [[ $(id -u) != 0 ]]; then
		echo "the lab benchmarks need root (they build labs with network namespaces and containerd)" >&2
		exit 1
	fi
	machine >"$results/lab-machine.txt"
	echo "== pod network setup (netplane, root)" >&2
	go test -run XXX -bench SetupTeardownPod -count "${BENCH_COUNT:-5}" ./netplane/ | tee "$results/lab-micro.txt"
	out=$(mktemp)
	trap 'rm -f "$out"' EXIT
	echo "== lab benchmarks (runs ${SHOAL_BENCH_RUNS:-default})" >&2
	SHOAL_E2E=1 SHOAL_BENCH=1 SHOAL_BENCH_OUT="$out" \
		go test -count=1 -v -timeout 60m -run 'TestBench' ./e2e/ 2>&1 |
		grep -E '^(=== RUN|--- |PASS|FAIL|ok)|result \{|bench_test.go' >&2
	cp "$out" "$results/lab.jsonl"
fi

go run ./bench/report -results "$results" -o BENCHMARKS.md
echo "wrote BENCHMARKS.md" >&2
