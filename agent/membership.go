package agent

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// nodeMeta is what every agent tells the fleet about itself by gossip. It
// must stay under memberlist's 512-byte limit, so it carries only addresses,
// role and capacity; V lets a newer agent read an older one.
type nodeMeta struct {
	V      int               `json:"v"`
	API    string            `json:"api"`
	Raft   string            `json:"raft,omitempty"`
	Server bool              `json:"server,omitempty"`
	Memory string            `json:"mem,omitempty"`
	CPU    string            `json:"cpu,omitempty"`
	Pods   int               `json:"pods,omitempty"` // 0: DefaultMaxPods
	Labels map[string]string `json:"l,omitempty"`
}

// member is one agent as gossip sees it.
type member struct {
	Name  string
	Addr  string
	Alive bool
	Meta  nodeMeta
}

// membership wraps memberlist: who is in the fleet and who is alive.
type membership struct {
	list    *memberlist.Memberlist
	meta    []byte
	log     *slog.Logger
	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every membership event
	// nodes copies what memberlist tells the event callbacks (which it
	// calls under its own lock): the *Node values its Members returns are
	// its live records, written by gossip and by setMeta, so reading them
	// outside its lock is a data race.
	nodes map[string]memberlist.Node
}

func newMembership(cfg Config, meta nodeMeta, log *slog.Logger) (*membership, error) {
	b, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	if len(b) > memberlist.MetaMaxSize {
		return nil, fmt.Errorf("node metadata is %d bytes, gossip allows %d: use fewer or shorter labels", len(b), memberlist.MetaMaxSize)
	}
	m := &membership{meta: b, log: log, changed: make(chan struct{}), nodes: map[string]memberlist.Node{}}
	mc := memberlist.DefaultLANConfig()
	mc.Name = cfg.Name
	mc.BindAddr = cfg.BindAddr
	mc.BindPort = cfg.GossipPort
	mc.AdvertiseAddr = cfg.advertise()
	mc.AdvertisePort = cfg.GossipPort
	mc.Delegate = m
	mc.Events = m
	mc.LogOutput = slogWriter{log.With("part", "gossip")}
	gossipTimings(mc)
	if err := applyGossipKey(mc, cfg.Encrypt); err != nil {
		return nil, err
	}
	if cfg.tuneGossip != nil {
		cfg.tuneGossip(mc) // agent/sim.go
	}
	list, err := memberlist.Create(mc)
	if err != nil {
		return nil, fmt.Errorf("start gossip on %s: %w", hostPort(cfg.BindAddr, cfg.GossipPort), err)
	}
	m.list = list
	return m, nil
}

// gossipTimings sets how fast gossip probes and how long it suspects.
// membership_bench_test.go measures the verdict they give.
func gossipTimings(mc *memberlist.Config) {
	// A lab or LAN answers in well under a millisecond: probe faster than
	// the WAN-minded default so a dead node is noticed in about a second
	// and a half. Suspicion lasts SuspicionMult probe intervals once another
	// member confirms it (0.75 s), up to six times that without. A false
	// verdict costs nothing by itself: the node grace (agent/controllers/nodelifecycle.go)
	// must also pass before the leader moves anything, and memberlist
	// stretches its own timeouts when this agent is too loaded to answer.
	mc.ProbeInterval = 250 * time.Millisecond
	mc.ProbeTimeout = 200 * time.Millisecond
	mc.GossipInterval = 100 * time.Millisecond
	mc.SuspicionMult = 3
}

// join contacts the given agents; it succeeds when at least one answered.
func (m *membership) join(addrs []string) error {
	if len(addrs) == 0 {
		return nil
	}
	n, err := m.list.Join(addrs)
	if n == 0 && err != nil {
		return fmt.Errorf("join %v: %w", addrs, err)
	}
	return nil
}

// members lists every agent gossip knows, alive or not, sorted by name.
func (m *membership) members() []member {
	m.mu.Lock()
	nodes := make([]memberlist.Node, 0, len(m.nodes))
	for _, n := range m.nodes {
		nodes = append(nodes, n)
	}
	m.mu.Unlock()
	var out []member
	for _, n := range nodes {
		var meta nodeMeta
		if err := json.Unmarshal(n.Meta, &meta); err != nil {
			m.log.Warn("unreadable gossip metadata", "node", n.Name, "err", err)
			continue
		}
		out = append(out, member{Name: n.Name, Addr: n.Addr.String(), Alive: n.State == memberlist.StateAlive, Meta: meta})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// changes returns a channel closed at the next membership event.
func (m *membership) changes() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changed
}

func (m *membership) notify() {
	m.mu.Lock()
	close(m.changed)
	m.changed = make(chan struct{})
	m.mu.Unlock()
}

func (m *membership) leave(timeout time.Duration) {
	if err := m.list.Leave(timeout); err != nil {
		m.log.Warn("leave gossip", "err", err)
	}
	if err := m.list.Shutdown(); err != nil {
		m.log.Warn("stop gossip", "err", err)
	}
}

// NodeMeta is memberlist's Delegate: our metadata travels with every ping.
func (m *membership) NodeMeta(limit int) []byte {
	m.mu.Lock() // agent/seats.go setMeta changes it when a client is promoted
	defer m.mu.Unlock()
	return m.meta
}

// NotifyMsg is unused: all state travels through Raft, not gossip.
func (m *membership) NotifyMsg([]byte) {}

// GetBroadcasts is unused for the same reason.
func (m *membership) GetBroadcasts(overhead, limit int) [][]byte { return nil }

// LocalState is unused: there is no gossiped state to merge.
func (m *membership) LocalState(join bool) []byte { return nil }

// MergeRemoteState is unused.
func (m *membership) MergeRemoteState(buf []byte, join bool) {}

// NotifyJoin is memberlist's EventDelegate.
func (m *membership) NotifyJoin(n *memberlist.Node) {
	m.record(n, true)
	m.log.Info("member joined", "node", n.Name, "addr", n.Addr.String())
	m.notify()
}

// NotifyLeave fires when a member left or was declared dead.
func (m *membership) NotifyLeave(n *memberlist.Node) {
	m.record(n, false)
	m.log.Info("member left or failed", "node", n.Name)
	m.notify()
}

// NotifyUpdate fires when a member's metadata changed.
func (m *membership) NotifyUpdate(n *memberlist.Node) {
	m.record(n, true)
	m.notify()
}

// record keeps a copy of a live member, as memberlist's Members would
// list it (dead and departed members are not listed).
func (m *membership) record(n *memberlist.Node, live bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !live {
		delete(m.nodes, n.Name)
		return
	}
	c := *n
	c.Addr = append(net.IP(nil), n.Addr...)
	c.Meta = append([]byte(nil), n.Meta...)
	m.nodes[n.Name] = c
}

// slogWriter turns the standard-library logging of hashicorp's libraries into slog records.
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	msg := strings.TrimRight(string(p), "\n")
	switch {
	case strings.Contains(msg, "[ERR]"):
		w.log.Error(msg)
	case strings.Contains(msg, "[WARN]"):
		w.log.Warn(msg)
	default:
		w.log.Debug(msg)
	}
	return len(p), nil
}

var _ io.Writer = slogWriter{}
