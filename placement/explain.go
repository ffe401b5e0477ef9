package placement

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// explainSample bounds how many per-node details a NoFit keeps. The counts
// cover every node; the sample lets a reader see the numbers behind them
// (how much was free where) without the Raft entry that records it
// growing with the fleet.
const explainSample = 5

// NoFit says why a pod fits no node, the way Nomad's AllocMetric does: how
// many nodes were filtered for each reason, and a bounded sample of
// per-node details. Its String is the PodScheduled condition's message.
type NoFit struct {
	// Nodes is how many nodes were considered.
	Nodes int
	// Reasons counts the nodes per reason, most first.
	Reasons []ReasonCount
	// Sample is at most explainSample per-node details, one node of each
	// reason first, sorted by node name.
	Sample []string
}

// ReasonCount is how many nodes one reason ruled out.
type ReasonCount struct {
	Reason string
	Nodes  int
}

// String reads like kube-scheduler's FailedScheduling message, with the
// sample after it: "0/3 nodes are available: 2 insufficient memory, 1
// node not ready (a: memory 3Gi requested, 1Gi free; ...)".
func (f *NoFit) String() string {
	if f.Nodes == 0 {
		return "0/0 nodes are available: no nodes registered"
	}
	var b strings.Builder
	b.WriteString("0/" + strconv.Itoa(f.Nodes) + " nodes are available: ")
	for i, r := range f.Reasons {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(r.Nodes) + " " + r.Reason)
	}
	if len(f.Sample) > 0 {
		b.WriteString(" (" + strings.Join(f.Sample, "; "))
		if more := f.Nodes - len(f.Sample); more > 0 {
			b.WriteString(fmt.Sprintf("; and %d more", more))
		}
		b.WriteString(")")
	}
	return b.String()
}

// class is the counted name of a miss: one per kind of reason, so nodes
// short of the same thing by different amounts count together.
func class(m miss, res string) string {
	switch m {
	case notReady:
		return "node not ready"
	case cordoned:
		return "node(s) were unschedulable"
	case tainted:
		return "node(s) had untolerated taint " + res
	case selector:
		return "node selector mismatch"
	case affinity:
		return "node(s) didn't match Pod's node affinity"
	case podAntiAffinity:
		return "node(s) didn't match pod anti-affinity rules"
	case podAffinity:
		return "node(s) didn't match pod affinity rules"
	case spreadSkew:
		return "node(s) didn't match pod topology spread constraints"
	case otherNode:
		return "pod asks for another node"
	case podsFull:
		return "too many pods"
	case portsInUse:
		return "node(s) didn't have free ports for the requested pod ports"
	case resourceShort:
		return "insufficient " + res
	}
	return "does not fit"
}

// explain builds the NoFit of a pod that fits none of nodes. It formats a
// detail for at most explainSample nodes, however large the fleet.
func explain(need *needs, nodes []NodeInfo, u *usage) *NoFit {
	f := &NoFit{Nodes: len(nodes)}
	type seen struct {
		count int
		first int // index in nodes of the first node by name with this reason
	}
	byClass := map[string]*seen{}
	misses := make([]miss, len(nodes))
	shorts := make([]string, len(nodes))
	for i := range nodes {
		misses[i], shorts[i] = check(need, &nodes[i], u)
		c := class(misses[i], shorts[i])
		s := byClass[c]
		if s == nil {
			s = &seen{first: i}
			byClass[c] = s
		} else if nodes[i].Node.ObjectMeta.Name < nodes[s.first].Node.ObjectMeta.Name {
			s.first = i
		}
		s.count++
	}
	for c, s := range byClass {
		f.Reasons = append(f.Reasons, ReasonCount{Reason: c, Nodes: s.count})
	}
	sort.Slice(f.Reasons, func(i, j int) bool {
		a, b := f.Reasons[i], f.Reasons[j]
		if a.Nodes != b.Nodes {
			return a.Nodes > b.Nodes
		}
		return a.Reason < b.Reason
	})
	// One node of each reason first (the most common reasons first), then
	// the remaining nodes by name until the sample is full.
	picked := map[int]bool{}
	for _, r := range f.Reasons {
		if len(picked) == explainSample {
			break
		}
		picked[byClass[r.Reason].first] = true
	}
	if len(picked) < explainSample {
		order := make([]int, len(nodes))
		for i := range order {
			order[i] = i
		}
		sort.Slice(order, func(i, j int) bool {
			return nodes[order[i]].Node.ObjectMeta.Name < nodes[order[j]].Node.ObjectMeta.Name
		})
		for _, i := range order {
			if len(picked) == explainSample {
				break
			}
			picked[i] = true
		}
	}
	for i := range picked {
		f.Sample = append(f.Sample, reason(need, &nodes[i], misses[i], shorts[i]))
	}
	sort.Strings(f.Sample)
	return f
}
