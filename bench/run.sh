#!/usr/bin/env bash
# Runs shoal's benchmarks and regenerates BENCHMARKS.md from their results.
#
#   bench/run.sh [all|micro|lab|ref] (make bench = all: micro, lab and ref;
#                                     make bench-lab = lab, make bench-ref = ref)
#
# micro: placement, Raft and the watch fan-out (go test -bench, -count
#        BENCH_COUNT, default 5).
# lab:   the e2e lab benchmarks (root, containerd; SHOAL_BENCH_RUNS repeats).
#        LAB_RUN (a go test -run pattern) runs some of them alone, e.g.
#        LAB_RUN='TestBenchPodStart$|TestBenchFailover$', without the root
#        Go benchmarks and the machines lab: their lines replace only the
#        benches they measured, and their machine block is added to
#        lab-machine.txt with a "benches:" line naming those benches (so a
#        run fits the lab lock's hold, and the report says which rows
#        were taken where).
# ref:   the same measurements on the peers, each added to lab.jsonl under
#        its own prefix (REF_PEERS picks some, default "swarm nomad etcd"):
#        swarm: Docker Swarm (e2e/ref_swarm_test.go; root; installs Debian's
#               docker.io and skopeo if missing, never starting dockerd in
#               the host), swarm_* lines; REF_SWARM_RUN (a go test -run
#               pattern) runs some of its tests, keeping the other swarm_*
#               lines (so a run fits the lab lock's hold) and adding its
#               machine block to ref-machine.txt as LAB_RUN does;
#        nomad: Nomad built from source (bench/nomad-build.sh; the binary
#               at $SHOAL_NOMAD, default /var/tmp/shoal-peers/nomad-v2.0.5/
#               bin/nomad, built first from $NOMAD_SRC when given), in the
#               Swarm lab's namespaces (e2e/ref_nomad_test.go; root),
#               nomad_* lines; skipped, saying so, without a binary;
#               REF_NOMAD_RUN (a go test -run pattern) runs some of its
#               tests, keeping the other nomad_* lines and adding its
#               machine block to ref-nomad-machine.txt as LAB_RUN does
#               (the placement test alone writes ref-nomad-place-machine.txt);
#               then shoal's side of its placement figures (place, below),
#               unless REF_NOMAD_RUN leaves TestRefNomadPlacement out;
#        place: shoal's side of Nomad's placement figures alone, on hollow
#               agents (agent/placement_rate_test.go; no root, no Nomad),
#               place-* lines; SHOAL_PLACE_COUNTS (default 1000,10000) and
#               SHOAL_BENCH_RUNS pick the runs, which replace only the
#               place-N lines of the counts run;
#        etcd:  a 3-member etcd on loopback with the write pattern of
#               shoal's Raft benchmark (bench/peers/etcd, a module of its
#               own; installs Debian's etcd-server if missing, never
#               starting its service), etcd_* lines, taken in turns with
#               shoal's Raft benchmark (ref-micro.txt) so both see the same
#               machine.
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
all | micro | lab | ref) ;;
*)
	echo "usage: $0 [all|micro|lab|ref]" >&2
	exit 2
	;;
esac

if [[ $what == all || $what == micro ]]; then
	count=${BENCH_COUNT:-5}
	machine >"$results/machine.txt"
	echo "== placement (count $count)" >&2
	go test -run XXX -bench Choose -benchtime 2s -count "$count" -cpu 1 ./placement/ | tee "$results/micro.txt"
	echo "== leader placement step and fleet build (count ${BENCH_LEADER_COUNT:-3})" >&2
	go test -run XXX -bench 'LeaderPlacement|FleetRegister' -benchtime 1s -count "${BENCH_LEADER_COUNT:-3}" -cpu 1 ./consensus/ | tee -a "$results/micro.txt"
	echo "== gossip verdict on loopback (5, 20, 50 members; 5 kills each)" >&2
	go test -run XXX -bench GossipVerdict -benchtime 5x ./agent/ | tee -a "$results/micro.txt"
	echo "== raft apply (count $count)" >&2
	go test -run XXX -bench RaftApply -benchtime 3s -count "$count" ./consensus/ | tee -a "$results/micro.txt"
	echo "== watch fan-out (count ${BENCH_WATCH_COUNT:-3})" >&2
	go test -run XXX -bench WatchFanOut -benchtime 1000x -count "${BENCH_WATCH_COUNT:-3}" ./agent/apiserver/ | tee -a "$results/micro.txt"
fi

# recorded FILE WHAT: whether a run wrote any result line; a run that
# recorded nothing (every test skipped, e.g. a tool missing on a fresh
# machine) must not wipe the lines stored by an earlier run.
recorded() {
	if [[ ! -s $1 ]]; then
		echo "== $2: nothing recorded (every test skipped?); the lines stored before are kept" >&2
		return 1
	fi
}

# replace_lines PREFIX FILE: lab.jsonl without the PREFIX* benches, plus FILE.
replace_lines() {
	recorded "$2" "$1* benches" || return 0
	{ grep -v "\"bench\":\"$1" "$results/lab.jsonl" 2>/dev/null || true; cat "$2"; } >"$2.all"
	mv "$2.all" "$results/lab.jsonl"
}

# replace_benches FILE: lab.jsonl without the benches FILE has lines of,
# plus FILE (after a run of some of a peer's tests: the others stay).
replace_benches() {
	recorded "$1" "this run" || return 0
	local names
	names=$(grep -o '"bench":"[^"]*"' "$1" | sort -u || true)
	{ if [[ -n $names ]]; then grep -vF "$names" "$results/lab.jsonl" 2>/dev/null || true; else cat "$results/lab.jsonl" 2>/dev/null || true; fi; cat "$1"; } >"$1.all"
	mv "$1.all" "$results/lab.jsonl"
}

# add_machine FILE BLOCK OUT: after a run of some of the tests, whose
# result lines are in OUT, BLOCK (the machine block taken at its start)
# goes into FILE with a "benches:" line naming the benches OUT holds; the
# earlier blocks lose those names, and a block of an earlier partial run
# left with none is dropped. A block without a "benches:" line is a full
# run's: it stays, for every bench no later block names. So each bench
# keeps the block of the run that took its lines (bench/report reads
# them so).
add_machine() {
	local file=$1 block=$2 out=$3 names kept
	[[ -s $out ]] || return 0
	names=$(grep -o '"bench":"[^"]*"' "$out" | cut -d'"' -f4 | sort -u | tr '\n' ' ' | sed 's/ $//')
	kept=$(mktemp)
	if [[ -s $file ]]; then
		awk -v drop="$names" '
			BEGIN { RS = ""; FS = "\n"; n = split(drop, d, " "); for (i = 1; i <= n; i++) gone[d[i]] = 1 }
			{
				keep = 1; text = ""
				for (i = 1; i <= NF; i++) {
					line = $i
					if (line ~ /^benches:/) {
						m = split(substr(line, 9), b, " "); left = ""
						for (j = 1; j <= m; j++) if (!(b[j] in gone)) left = left " " b[j]
						if (left == "") keep = 0
						line = "benches:" left
					}
					text = text line "\n"
				}
				if (keep) { printf "%s%s", (printed++ ? "\n" : ""), text }
			}' "$file" >"$kept"
	fi
	{
		cat "$kept"
		[[ -s $kept ]] && echo
		echo "$block"
		echo "benches: $names"
	} >"$file"
	rm -f "$kept"
}

if [[ $what == all || $what == lab ]]; then
	if [[ $(id -u) != 0 ]]; then
		echo "the lab benchmarks need root (they build labs with network namespaces and containerd)" >&2
		exit 1
	fi
fi
if [[ $what == all || $what == lab ]] && [[ -n ${LAB_RUN:-} ]]; then
	block=$(machine)
	out=$(mktemp)
	trap 'rm -f "$out"' EXIT
	echo "== lab benchmarks $LAB_RUN (runs ${SHOAL_BENCH_RUNS:-default})" >&2
	SHOAL_E2E=1 SHOAL_BENCH=1 SHOAL_BENCH_OUT="$out" \
		go test -count=1 -v -timeout 60m -run "$LAB_RUN" ./e2e/ 2>&1 |
		grep -E '^(=== RUN|--- |PASS|FAIL|ok)|result \{|bench_' >&2
	add_machine "$results/lab-machine.txt" "$block" "$out"
	replace_benches "$out"
elif [[ $what == all || $what == lab ]]; then
	machine >"$results/lab-machine.txt"
	echo "== pod network setup (netplane, root)" >&2
	go test -run XXX -bench SetupTeardownPod -count "${BENCH_COUNT:-5}" ./netplane/ | tee "$results/lab-micro.txt"
	echo "== service rules (svcproxy, root)" >&2
	go test -run XXX -bench 'SyncOneChange|PlanOneChange' -benchtime 20x -count "${BENCH_COUNT:-5}" ./agent/node/svcproxy/ | tee -a "$results/lab-micro.txt"
	go test -run XXX -bench SyncFullRebuild -benchtime 3x -count 3 ./agent/node/svcproxy/ | tee -a "$results/lab-micro.txt"
	go test -run XXX -bench ServiceRoundTrip -benchtime 20000x -count "${BENCH_COUNT:-5}" ./agent/node/svcproxy/ | tee -a "$results/lab-micro.txt"
	out=$(mktemp)
	trap 'rm -f "$out"' EXIT
	echo "== lab benchmarks (runs ${SHOAL_BENCH_RUNS:-default})" >&2
	SHOAL_E2E=1 SHOAL_BENCH=1 SHOAL_MACHINES=1 SHOAL_BENCH_OUT="$out" \
		go test -count=1 -v -timeout 60m -run 'TestBench|TestMachinesLab$' ./e2e/ 2>&1 |
		grep -E '^(=== RUN|--- |PASS|FAIL|ok)|result \{|bench_test.go' >&2
	# Keep the reference lines (bench/run.sh ref: the peers' and shoal's
	# placement side) beside the new ones.
	{ grep -E '"bench":"(swarm_|nomad_|etcd_|place-)' "$results/lab.jsonl" 2>/dev/null || true; cat "$out"; } >"$out.all"
	mv "$out.all" "$results/lab.jsonl"
fi

# ref_deps installs docker.io (dockerd, Swarm built in) and skopeo when
# missing. A policy-rc.d answering 101 forbids starting any service during
# the install: a dockerd in the host namespace would make docker0 and
# iptables rules there. The benchmark starts its own daemons in namespaces.
ref_deps() {
	local need=()
	command -v dockerd >/dev/null || need+=(docker.io)
	command -v skopeo >/dev/null || need+=(skopeo)
	((${#need[@]})) || return 0
	local policy=/usr/sbin/policy-rc.d saved
	saved=$(mktemp)
	if [[ -e $policy ]]; then cp -p "$policy" "$saved"; else rm -f "$saved"; fi
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	local rc=0
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" || rc=$?
	if [[ -e $saved ]]; then mv "$saved" "$policy"; else rm -f "$policy"; fi
	((rc == 0)) || return $rc
	if [[ -d /run/systemd/system ]]; then
		systemctl disable --now docker.socket docker.service containerd.service 2>/dev/null || true
	fi
	if [[ -s /var/run/docker.pid ]] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
		echo "a host dockerd was started anyway; stopping it (check docker0 and iptables in the host)" >&2
		kill "$(cat /var/run/docker.pid)"
	fi
}

# etcd_deps installs Debian's etcd-server when missing, with the same
# policy-rc.d guard: the benchmark starts its own members on loopback.
etcd_deps() {
	command -v etcd >/dev/null && return 0
	local policy=/usr/sbin/policy-rc.d saved
	saved=$(mktemp)
	if [[ -e $policy ]]; then cp -p "$policy" "$saved"; else rm -f "$saved"; fi
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	local rc=0
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server || rc=$?
	if [[ -e $saved ]]; then mv "$saved" "$policy"; else rm -f "$policy"; fi
	((rc == 0)) || return $rc
	if [[ -d /run/systemd/system ]]; then
		systemctl disable --now etcd.service 2>/dev/null || true
	fi
}

peers=${REF_PEERS:-swarm nomad etcd}
if [[ $what == all || $what == ref ]] && [[ " $peers " == *" swarm "* ]]; then
	if [[ $(id -u) != 0 ]]; then
		echo "the reference benchmarks need root (they run dockerd in network namespaces)" >&2
		exit 1
	fi
	ref_deps
	block=$(
		machine
		echo "docker:  $(dockerd --version)"
	)
	# A run of some tests adds its block after it (add_machine).
	[[ -n ${REF_SWARM_RUN:-} ]] || echo "$block" >"$results/ref-machine.txt"
	out=$(mktemp)
	trap 'rm -f "$out"' EXIT
	echo "== Docker Swarm reference benchmarks (runs ${SHOAL_BENCH_RUNS:-default})" >&2
	SHOAL_E2E=1 SHOAL_BENCH=1 SHOAL_BENCH_REF=1 SHOAL_BENCH_OUT="$out" \
		go test -count=1 -v -timeout 60m -run "${REF_SWARM_RUN:-TestRefSwarm}" ./e2e/ 2>&1 |
		grep -E '^(=== RUN|--- |PASS|FAIL|ok)|result \{|ref_swarm' >&2
	if [[ -n ${REF_SWARM_RUN:-} ]]; then
		add_machine "$results/ref-machine.txt" "$block" "$out"
		replace_benches "$out"
	else
		replace_lines swarm_ "$out"
	fi
fi

nomad=${SHOAL_NOMAD:-/var/tmp/shoal-peers/nomad-v2.0.5/bin/nomad}
if [[ $what == all || $what == ref ]] && [[ " $peers " == *" nomad "* ]]; then
	if [[ ! -x $nomad && -n ${NOMAD_SRC:-} ]]; then
		bench/nomad-build.sh "$NOMAD_SRC"
	fi
	if [[ ! -x $nomad ]]; then
		echo "== Nomad reference skipped: no binary at $nomad (bench/nomad-build.sh NOMAD_GIT_DIR builds one; or set SHOAL_NOMAD, or NOMAD_SRC to build it here)" >&2
	elif [[ $(id -u) != 0 ]]; then
		echo "the Nomad reference benchmarks need root (they run nomad agents in network namespaces)" >&2
		exit 1
	else
		# A run of the placement test alone has a machine block of its
		# own, so the block of the other Nomad rows stays theirs.
		mfile=$results/ref-nomad-machine.txt
		[[ ${REF_NOMAD_RUN:-} == TestRefNomadPlacement* ]] && mfile=$results/ref-nomad-place-machine.txt
		block=$(
			machine
			echo "nomad:   $("$nomad" version | head -1)"
		)
		# A run of some of the other tests adds its block after the
		# earlier ones (add_machine), as REF_SWARM_RUN does.
		partial=
		[[ -n ${REF_NOMAD_RUN:-} && $mfile == */ref-nomad-machine.txt ]] && partial=1
		[[ -n $partial ]] || echo "$block" >"$mfile"
		out=$(mktemp)
		trap 'rm -f "$out"' EXIT
		echo "== Nomad reference benchmarks (runs ${SHOAL_BENCH_RUNS:-default})" >&2
		SHOAL_E2E=1 SHOAL_BENCH=1 SHOAL_BENCH_REF=1 SHOAL_NOMAD="$nomad" SHOAL_BENCH_OUT="$out" \
			go test -count=1 -v -timeout 60m -run "${REF_NOMAD_RUN:-TestRefNomad}" ./e2e/ 2>&1 |
			grep -E '^(=== RUN|--- |PASS|FAIL|ok)|result \{|ref_nomad' >&2
		[[ -z $partial ]] || add_machine "$mfile" "$block" "$out"
		if [[ -n ${REF_NOMAD_RUN:-} ]]; then replace_benches "$out"; else replace_lines nomad_ "$out"; fi
	fi
fi

# shoal's side of Nomad's placement figures: the same node count as
# hollow agents (agent/placement_rate_test.go), on this machine right
# after Nomad's (or alone: REF_PEERS=place), place-N lines. It needs
# neither root nor Nomad, so a machine without the Nomad binary still
# measures it. Only the counts run are replaced, so 1,000 and 10,000 may
# be taken in separate runs (each within the lab lock's hold).
if [[ $what == all || $what == ref ]] &&
	{ [[ " $peers " == *" place "* ]] ||
		{ [[ " $peers " == *" nomad "* ]] && [[ -z ${REF_NOMAD_RUN:-} || ${REF_NOMAD_RUN} == *Plac* || ${REF_NOMAD_RUN} == TestRefNomad ]]; }; }; then
	machine >"$results/ref-place-machine.txt"
	place=$(mktemp)
	trap 'rm -f "${out:-}" "$place"' EXIT
	echo "== shoal placement beside Nomad's (hollow fleet, counts ${SHOAL_PLACE_COUNTS:-1000,10000}, runs ${SHOAL_BENCH_RUNS:-default})" >&2
	SHOAL_BENCH=1 SHOAL_BENCH_OUT="$place" \
		go test -count=1 -v -timeout 60m -run 'TestPlacementRate$' ./agent/ 2>&1 |
		grep -E '^(=== RUN|--- |PASS|FAIL|ok)|result \{|placement_rate' >&2
	replace_benches "$place"
fi

if [[ $what == all || $what == ref ]] && [[ " $peers " == *" etcd "* ]]; then
	[[ $(id -u) == 0 ]] || command -v etcd >/dev/null || {
		echo "etcd is not installed (apt-get install etcd-server, as root)" >&2
		exit 1
	}
	etcd_deps
	count=${BENCH_COUNT:-5}
	machine >"$results/ref-etcd-machine.txt"
	echo "etcd:    $(etcd --version | head -1)" >>"$results/ref-etcd-machine.txt"
	tool=$(mktemp -d)
	out=$(mktemp)
	trap 'rm -rf "$out" "$tool"' EXIT
	(cd bench/peers/etcd && go build -o "$tool/etcd-bench" .)
	: >"$results/ref-micro.txt"
	# In turns, one run each, so a busy spell of the machine falls on both.
	for i in $(seq "$count"); do
		echo "== shoal Raft apply, then etcd, run $i of $count" >&2
		go test -run XXX -bench RaftApply -benchtime 3s -count 1 ./consensus/ | tee -a "$results/ref-micro.txt"
		"$tool/etcd-bench" -runs 1 -first-run "$i" -benchtime 3s -o "$out"
	done
	replace_lines etcd_ "$out"
fi

go run ./bench/report -results "$results" -o BENCHMARKS.md
echo "wrote BENCHMARKS.md" >&2
