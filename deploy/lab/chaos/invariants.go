package chaos

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// Invariant names one promise the runner checks.
type Invariant string

const (
	// InvContainerd (a): after a heal, the pods running fleet-wide as
	// containerd sees them are exactly the state's Running pods, each on
	// its node and none twice (a pod running on two nodes at once is a
	// violation at any moment).
	InvContainerd Invariant = "(a) containerd = state, none twice"
	// InvReplicas (b): every RC gets back to its replica count, all
	// Running, within the bound.
	InvReplicas Invariant = "(b) RCs back to count in bound"
	// InvAcked (c): every acknowledged write is in the leader's state,
	// across any leader change.
	InvAcked Invariant = "(c) acknowledged writes kept"
	// InvIPs (d): no pod IP is used twice at once, among the state's
	// Running pods or among the nodes' pod network namespaces.
	InvIPs Invariant = "(d) no pod IP used twice"
	// InvLeaks (e): nothing of the lab is left after `lab down`.
	InvLeaks Invariant = "(e) nothing leaked after down"
	// InvLinear (f): the clients' history of create, get, compare-and-set
	// update, delete and list is linearizable (history.go, model.go).
	InvLinear Invariant = "(f) API history linearizable"
	// InvNeverAbove (g): once the fleet has settled, and until the next
	// fault or write, no RC has more pods running in containerd than its
	// spec.replicas (a replica that comes back to life, or one started
	// twice, would).
	InvNeverAbove Invariant = "(g) RCs never above count once settled"
	// InvKeptRunning (h): a containerd restart restarts no container: the
	// shims keep the containers, and a pod Running before it that is
	// still wanted runs on with the same restart counts.
	InvKeptRunning Invariant = "(h) containers kept across a containerd restart"
)

// Invariants in the order the summary prints them.
var Invariants = []Invariant{InvContainerd, InvReplicas, InvAcked, InvIPs, InvLeaks, InvLinear, InvNeverAbove, InvKeptRunning}

// Observation is one look at the fleet: the state as the leader holds it,
// and what runs on each node it could look at.
type Observation struct {
	Pods []api.Pod
	RCs  []api.ReplicationController
	// Running maps node -> pod UID -> pod name, from containerd.
	Running map[string]map[string]string
	// NetnsIPs maps node -> IPv4 address -> the pod netns holding it.
	NetnsIPs map[string]map[string][]string
}

// DoubleRuns names the pods whose containers run on more than one node.
func DoubleRuns(o Observation) []string {
	where := map[string][]string{}
	names := map[string]string{}
	for node, pods := range o.Running {
		for uid, name := range pods {
			where[uid] = append(where[uid], node)
			names[uid] = name
		}
	}
	var out []string
	for uid, nodes := range where {
		if len(nodes) > 1 {
			sort.Strings(nodes)
			out = append(out, fmt.Sprintf("pod %s (uid %s) runs on %s at once", names[uid], uid, strings.Join(nodes, " and ")))
		}
	}
	sort.Strings(out)
	return out
}

// DuplicateIPs names the pod IPs held twice: by two Running pods of the
// state, or by two pod network namespaces on the nodes looked at.
func DuplicateIPs(o Observation) []string {
	var out []string
	byIP := map[string][]string{}
	for i := range o.Pods {
		p := &o.Pods[i]
		if p.Status.Phase == api.PodRunning && p.Status.PodIP != "" && p.ObjectMeta.DeletionTimestamp == nil {
			byIP[p.Status.PodIP] = append(byIP[p.Status.PodIP], p.ObjectMeta.Name+"@"+p.Spec.NodeName)
		}
	}
	for ip, pods := range byIP {
		if len(pods) > 1 {
			sort.Strings(pods)
			out = append(out, fmt.Sprintf("state: IP %s held by Running pods %s", ip, strings.Join(pods, ", ")))
		}
	}
	nsByIP := map[string][]string{}
	for node, ips := range o.NetnsIPs {
		for ip, nss := range ips {
			for _, ns := range nss {
				nsByIP[ip] = append(nsByIP[ip], node+":"+ns)
			}
		}
	}
	for ip, nss := range nsByIP {
		if len(nss) > 1 {
			sort.Strings(nss)
			out = append(out, fmt.Sprintf("nodes: IP %s on pod netns %s", ip, strings.Join(nss, ", ")))
		}
	}
	sort.Strings(out)
	return out
}

// ContainerdMismatch compares the state's Running pods with what runs in
// containerd on every node in o.Running: each Running pod runs on its own
// node, and nothing else runs. It is meant for a healed fleet, where the
// state has had time to catch up.
func ContainerdMismatch(o Observation) []string {
	var out []string
	want := map[string]string{} // uid -> node
	names := map[string]string{}
	for i := range o.Pods {
		p := &o.Pods[i]
		names[string(p.ObjectMeta.UID)] = p.ObjectMeta.Name
		if p.Status.Phase == api.PodRunning {
			want[string(p.ObjectMeta.UID)] = p.Spec.NodeName
		}
	}
	for uid, node := range want {
		if _, ok := o.Running[node][uid]; !ok {
			out = append(out, fmt.Sprintf("pod %s is Running on %s in the state but runs nothing there", names[uid], node))
		}
	}
	for node, pods := range o.Running {
		for uid, name := range pods {
			if want[uid] != node {
				where := "is not in the state"
				if n, ok := names[uid]; ok {
					where = fmt.Sprintf("is %s in the state", n)
					if w := want[uid]; w != "" {
						where += " Running on " + w
					}
				}
				out = append(out, fmt.Sprintf("containerd on %s runs pod %s (uid %s), which %s", node, name, uid, where))
			}
		}
	}
	sort.Strings(out)
	return append(out, DoubleRuns(o)...)
}

// ReplicaShortfalls names the RCs that do not have exactly spec.replicas
// selected pods, all Running and on a node not in away.
func ReplicaShortfalls(o Observation, away map[string]bool) []string {
	var out []string
	for _, rc := range o.RCs {
		want := int32(1)
		if rc.Spec.Replicas != nil {
			want = *rc.Spec.Replicas
		}
		var have, good int32
		var desc []string
		for i := range o.Pods {
			p := &o.Pods[i]
			if !selects(rc.Spec.Selector, p.ObjectMeta.Labels) {
				continue
			}
			have++
			if p.Status.Phase == api.PodRunning && !away[p.Spec.NodeName] {
				good++
			} else {
				desc = append(desc, p.ObjectMeta.Name+"="+string(p.Status.Phase)+"@"+p.Spec.NodeName)
			}
		}
		if have != want || good != want {
			out = append(out, fmt.Sprintf("rc %s: want %d, have %d pods, %d Running on live nodes %v", rc.ObjectMeta.Name, want, have, good, desc))
		}
	}
	return out
}

// ReplicaExcess names the RCs with more pods running in containerd, on
// the nodes looked at, than spec.replicas. A running pod belongs to an RC
// when the state's pod of that UID is selected by it, or, for a pod the
// state no longer holds, when its name is the RC's name and a suffix.
func ReplicaExcess(o Observation) []string {
	owner := map[string]string{} // uid -> rc
	for i := range o.Pods {
		p := &o.Pods[i]
		for _, rc := range o.RCs {
			if selects(rc.Spec.Selector, p.ObjectMeta.Labels) {
				owner[string(p.ObjectMeta.UID)] = rc.ObjectMeta.Name
			}
		}
	}
	running := map[string][]string{} // rc -> pod@node
	for node, pods := range o.Running {
		for uid, name := range pods {
			rc, ok := owner[uid]
			if !ok {
				for _, c := range o.RCs {
					if strings.HasPrefix(name, c.ObjectMeta.Name+"-") {
						rc = c.ObjectMeta.Name
					}
				}
			}
			if rc != "" {
				running[rc] = append(running[rc], name+"@"+node)
			}
		}
	}
	var out []string
	for _, rc := range o.RCs {
		want := int32(1)
		if rc.Spec.Replicas != nil {
			want = *rc.Spec.Replicas
		}
		if got := running[rc.ObjectMeta.Name]; int32(len(got)) > want {
			sort.Strings(got)
			out = append(out, fmt.Sprintf("rc %s: want %d, containerd runs %d: %s", rc.ObjectMeta.Name, want, len(got), strings.Join(got, ", ")))
		}
	}
	sort.Strings(out)
	return out
}

// NotRunning names the pods not selected by any RC (bare pods) that are
// not Running.
func NotRunning(o Observation) []string {
	var out []string
	for i := range o.Pods {
		p := &o.Pods[i]
		owned := false
		for _, rc := range o.RCs {
			owned = owned || selects(rc.Spec.Selector, p.ObjectMeta.Labels)
		}
		if !owned && p.Status.Phase != api.PodRunning {
			out = append(out, fmt.Sprintf("bare pod %s is %s on %q", p.ObjectMeta.Name, p.Status.Phase, p.Spec.NodeName))
		}
	}
	return out
}

func selects(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// value is what a write leaves in the state for one object: present or
// not, and for an RC its replicas.
type value struct {
	Present  bool
	Replicas int32
}

func (v value) String() string {
	if !v.Present {
		return "absent"
	}
	if v.Replicas >= 0 {
		return fmt.Sprintf("present with %d replicas", v.Replicas)
	}
	return "present"
}

type expectation struct {
	acked *value
	// inflight holds the writes sent and not answered yet, ambiguous
	// those that got no clear answer: either may land at any time, even
	// after a later acked write (a write that never completed is
	// concurrent with everything after it), so ambiguous values stay
	// possible for good.
	inflight, ambiguous []value
}

func (e *expectation) possible() []value {
	return append(append([]value{}, e.inflight...), e.ambiguous...)
}

// Ledger is the log of writes and what each proves: after an acked write
// the object must hold its value (or that of a later write that may have
// landed) for good.
type Ledger struct {
	mu     sync.Mutex
	objs   map[string]*expectation
	counts map[Outcome]int
}

// NewLedger starts an empty log.
func NewLedger() *Ledger {
	return &Ledger{objs: map[string]*expectation{}, counts: map[Outcome]int{}}
}

// Begin records a write about to be sent: from now on the state may hold
// its value.
func (l *Ledger) Begin(key string, v value) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.objs[key]
	if e == nil {
		e = &expectation{}
		l.objs[key] = e
	}
	e.inflight = append(e.inflight, v)
}

// End records the write's outcome: acked makes its value the one the
// state must hold, rejected takes it back, ambiguous leaves it possible.
func (l *Ledger) End(key string, v value, o Outcome) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counts[o]++
	e := l.objs[key]
	for i := len(e.inflight) - 1; i >= 0; i-- {
		if e.inflight[i] == v {
			e.inflight = append(e.inflight[:i], e.inflight[i+1:]...)
			break
		}
	}
	switch o {
	case Acked:
		e.acked = &v
	case Ambiguous:
		e.ambiguous = append(e.ambiguous, v)
	}
}

// Counts returns how many writes ended with each outcome.
func (l *Ledger) Counts() map[Outcome]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[Outcome]int{}
	for k, v := range l.counts {
		out[k] = v
	}
	return out
}

// Present lists the keys with prefix whose acked value is present and
// that no write since may have removed, sorted.
func (l *Ledger) Present(prefix string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for k, e := range l.objs {
		if !strings.HasPrefix(k, prefix) || e.acked == nil || !e.acked.Present {
			continue
		}
		sure := true
		for _, p := range e.possible() {
			sure = sure && p.Present
		}
		if sure {
			out = append(out, strings.TrimPrefix(k, prefix))
		}
	}
	sort.Strings(out)
	return out
}

// Check compares the state with the log: every object with an acked write
// holds that write's value or a value a later write may have left.
func (l *Ledger) Check(o Observation) []string {
	have := map[string]value{}
	for i := range o.Pods {
		have["pod/"+o.Pods[i].ObjectMeta.Name] = value{Present: true, Replicas: -1}
	}
	for _, rc := range o.RCs {
		r := int32(1)
		if rc.Spec.Replicas != nil {
			r = *rc.Spec.Replicas
		}
		have["rc/"+rc.ObjectMeta.Name] = value{Present: true, Replicas: r}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for k, e := range l.objs {
		if e.acked == nil {
			continue
		}
		got := have[k]
		ok := got == *e.acked
		for _, p := range e.possible() {
			ok = ok || got == p
		}
		if !ok {
			out = append(out, fmt.Sprintf("%s: acknowledged %s, state has it %s", k, e.acked, got))
		}
	}
	sort.Strings(out)
	return out
}

// persistent turns a stream of checks into violations: a finding counts
// only once it has been seen for longer than grace, so a state that lags
// a moment behind (a new leader still applying) is no violation, while a
// lost write is.
type persistent struct {
	grace time.Duration
	since map[string]time.Time
}

func newPersistent(grace time.Duration) *persistent {
	return &persistent{grace: grace, since: map[string]time.Time{}}
}

// observe takes the findings of one check at now and returns those seen
// continuously for longer than the grace.
func (p *persistent) observe(findings []string, now time.Time) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range findings {
		seen[f] = true
		t, ok := p.since[f]
		if !ok {
			p.since[f] = now
			continue
		}
		if now.Sub(t) > p.grace {
			out = append(out, f)
		}
	}
	for f := range p.since {
		if !seen[f] {
			delete(p.since, f)
		}
	}
	return out
}

// Restarted names the pods Running in before and still in after (same
// UID) whose containers restarted in between, or that no longer run.
func Restarted(before, after []api.Pod) []string {
	then := map[api.UID]*api.Pod{}
	for i := range before {
		if p := &before[i]; p.Status.Phase == api.PodRunning {
			then[p.ObjectMeta.UID] = p
		}
	}
	var out []string
	for i := range after {
		p := &after[i]
		was, ok := then[p.ObjectMeta.UID]
		if !ok || p.ObjectMeta.DeletionTimestamp != nil {
			continue
		}
		if p.Status.Phase != api.PodRunning {
			out = append(out, fmt.Sprintf("pod %s was Running, is %s", p.ObjectMeta.Name, p.Status.Phase))
			continue
		}
		restarts := map[string]int32{}
		for _, c := range was.Status.ContainerStatuses {
			restarts[c.Name] = c.RestartCount
		}
		for _, c := range p.Status.ContainerStatuses {
			if n, ok := restarts[c.Name]; ok && c.RestartCount > n {
				out = append(out, fmt.Sprintf("pod %s container %s restarted (%d -> %d)", p.ObjectMeta.Name, c.Name, n, c.RestartCount))
			}
		}
	}
	sort.Strings(out)
	return out
}
