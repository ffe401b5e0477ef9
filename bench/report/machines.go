package main

import "io"

const machinesText = `## A machines lab (e2e/bench_machines_test.go, e2e/machines_test.go)

` + "`shoal lab up --machines`" + ` with 3 nodes: each a Debian 12 systemd machine
(systemd-nspawn in the node's namespace) provisioned by deploy/vagrant's
provision.sh, the agent run as the shoal-agent unit. Cold: the Debian root
is built by debootstrap into an empty cache first (from the host's apt
mirror); warm: the cached root again, each machine booting a copy-on-write
overlay of it. The power cycle cuts one machine's power and boots it again;
systemd starts the agent, which re-creates the pods bound to it.

`

// writeMachines reports the machines lab's figures.
func writeMachines(w io.Writer, lab map[string]series) {
	io.WriteString(w, machinesText)
	cold, warm, cycle := lab["machines-up-cold"], lab["machines-up-warm"], lab["machines"]
	table(w, [][2]string{
		{"lab up, 3 machines, cold (root built), s", mmm(cold["up_s"])},
		{"lab up, 3 machines, warm (root cached), s", mmm(warm["up_s"])},
		{"power cycle: boot → node Ready, s", mmm(cycle["power_cycle_node_ready_s"])},
		{"power cycle: boot → its pods Running, s", mmm(cycle["power_cycle_pods_running_s"])},
	})
}
