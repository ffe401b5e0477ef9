package agent

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/shoal-dev/shoal/agent/liveness"
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
	// Leaving: the agent is shutting down and leaves gossip on purpose;
	// its departure is no verdict of silence (agent/liveness credits
	// only failures).
	Leaving bool `json:"leaving,omitempty"`
	// Liveness is the agent's gossip profile and grace, "" for the
	// defaults (membership_liveness_check.go).
	Liveness string `json:"lv,omitempty"`
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
	list     *memberlist.Memberlist
	meta     []byte
	log      *slog.Logger
	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every membership event
	failures failureSignal // fired when gossip declares a member failed (membership_failures.go)
	// nodes copies what memberlist tells the event callbacks (which it
	// calls under its own lock): the *Node values its Members returns are
	// its live records, written by gossip and by setMeta, so reading them
	// outside its lock is a data race.
	nodes map[string]memberlist.Node
	// metas holds each node's metadata as read once when gossip brought
	// it; a node whose metadata cannot be read has none. members and
	// pingServer ran several times a second and decoded every member's
	// JSON each time.
	metas map[string]nodeMeta
	// failed holds members gossip declared dead (not departed on purpose)
	// since it last saw them alive.
	failed map[string]bool
	pings  int // pingServer's turn
	// servers and serversStale: membership_servers.go.
	servers      []memberlist.Node
	serversStale bool
	// self, peers and peersFile remember the members seen, for a restart
	// to rejoin through (membership_peers.go).
	self      string
	peers     map[string]string
	peersFile string
	// peersDue and peersWriting: membership_peers.go's delayed write.
	peersDue     bool
	peersWriting sync.Mutex
	peersWrites  int // files written, under peersWriting
	// liveness and livenessSeen: membership_liveness_check.go.
	liveness     string
	livenessSeen map[string]string
	// serverAcked: membership_server_acks.go.
	serverAcked time.Time
}

func newMembership(cfg Config, meta nodeMeta, log *slog.Logger) (*membership, error) {
	b, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	if len(b) > memberlist.MetaMaxSize {
		return nil, fmt.Errorf("node metadata is %d bytes, gossip allows %d: use fewer or shorter labels", len(b), memberlist.MetaMaxSize)
	}
	m := &membership{meta: b, log: log, changed: make(chan struct{}), nodes: map[string]memberlist.Node{}, metas: map[string]nodeMeta{}, failed: map[string]bool{},
		self: cfg.Name, peers: map[string]string{}, liveness: meta.Liveness, livenessSeen: map[string]string{}}
	if cfg.DataDir != "" {
		m.peersFile = filepath.Join(cfg.DataDir, peersFileName)
	}
	mc := memberlist.DefaultLANConfig()
	mc.Name = cfg.Name
	mc.BindAddr = cfg.BindAddr
	mc.BindPort = cfg.GossipPort
	mc.AdvertiseAddr = cfg.advertise()
	mc.AdvertisePort = cfg.GossipPort
	mc.Delegate = m
	mc.Events = m
	mc.Alive = m // membership_liveness_check.go
	mc.Merge = m
	cacheAliveVerdicts(mc) // membership_alive_cache.go
	mc.Ping = m            // membership_server_acks.go
	mc.LogOutput = slogWriter{log.With("part", "gossip")}
	gossipTimings(mc, cfg.liveness().Gossip)
	// memberlist LZW-compresses every message by default, pings and acks
	// too: a fresh compressor per message was 40 % of an idle agent's
	// allocations and a third of a 100-node sim's CPU, to shrink messages
	// of a few hundred bytes that a LAN carries in one packet either way
	// (docs/performance.md). Only the push-pull of a large fleet's member
	// list gains from it, over TCP, every 30 s.
	mc.EnableCompression = false
	if err := applyGossipKey(mc, cfg.Encrypt); err != nil {
		return nil, err
	}
	if cfg.tuneGossip != nil {
		if err := cfg.tuneGossip(mc); err != nil { // agent/sim.go
			return nil, err
		}
	}
	own := mc.Transport == nil
	if err := gossipTransportFor(mc, log.With("part", "gossip")); err != nil { // membership_transport.go
		return nil, fmt.Errorf("start gossip on %s: %w", hostPort(cfg.BindAddr, cfg.GossipPort), err)
	}
	list, err := memberlist.Create(mc)
	if err != nil {
		if own {
			_ = mc.Transport.Shutdown()
		}
		return nil, fmt.Errorf("start gossip on %s: %w", hostPort(cfg.BindAddr, cfg.GossipPort), err)
	}
	m.list = list
	return m, nil
}

// gossipTimings tells memberlist the fleet's gossip timings (package
// agent/liveness owns them and says why they are what they are).
// membership_bench_test.go measures the verdict they give.
func gossipTimings(mc *memberlist.Config, g liveness.Gossip) {
	mc.ProbeInterval = g.ProbeInterval
	mc.ProbeTimeout = g.ProbeTimeout
	mc.GossipInterval = g.GossipInterval
	mc.SuspicionMult = g.SuspicionMult
	mc.SuspicionMaxTimeoutMult = g.SuspicionMaxTimeoutMult
}

// setMeta changes what this agent gossips about itself, and waits up to
// timeout for the news to go out.
func (m *membership) setMeta(meta nodeMeta, timeout time.Duration) error {
	b, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	if len(b) > memberlist.MetaMaxSize {
		return fmt.Errorf("node metadata is %d bytes, gossip allows %d", len(b), memberlist.MetaMaxSize)
	}
	m.mu.Lock()
	m.meta = b
	m.mu.Unlock()
	return m.list.UpdateNode(timeout)
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
	out := make([]member, 0, len(m.nodes))
	for _, n := range m.nodes {
		meta, ok := m.metas[n.Name]
		if !ok {
			continue // unreadable, logged when it came (record)
		}
		meta.Labels = maps.Clone(meta.Labels) // callers may keep or change it
		out = append(out, member{Name: n.Name, Addr: n.Addr.String(), Alive: n.State == memberlist.StateAlive, Meta: meta})
	}
	m.mu.Unlock()
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
	// Say first that this departure is on purpose: the leader credits a
	// failure's silence to the node grace, never a departure's.
	var meta nodeMeta
	m.mu.Lock()
	err := json.Unmarshal(m.meta, &meta)
	m.mu.Unlock()
	if err == nil {
		meta.Leaving = true
		if err := m.setMeta(meta, timeout/4); err != nil {
			m.log.Debug("tell the fleet this agent leaves", "err", err)
		}
	}
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
	api, failed := m.failedAPI(n.Name) // membership_failures.go
	m.record(n, false)
	m.log.Info("member left or failed", "node", n.Name)
	m.notify()
	if failed {
		m.failures.fire(api)
	}
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
	m.serverChanged(n.Name) // membership_servers.go
	if !live {
		if meta, ok := m.metas[n.Name]; !ok || !meta.Leaving {
			m.failed[n.Name] = true
		}
		delete(m.nodes, n.Name)
		delete(m.metas, n.Name)
		return
	}
	delete(m.failed, n.Name)
	c := *n
	c.Addr = append(net.IP(nil), n.Addr...)
	c.Meta = nil // kept once, decoded, in metas: every agent holds every member
	m.nodes[n.Name] = c
	var meta nodeMeta
	if err := json.Unmarshal(n.Meta, &meta); err != nil {
		m.log.Warn("unreadable gossip metadata", "node", n.Name, "err", err)
		delete(m.metas, n.Name)
	} else {
		m.metas[n.Name] = meta
	}
	m.serverChanged(n.Name)
	m.rememberPeer(&c) // membership_peers.go
}

// failedVerdict tells whether gossip declared the named member dead, as
// opposed to it leaving on purpose, since it was last alive.
func (m *membership) failedVerdict(name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.failed[name]
}

// pingServer pings one server gossip holds alive, other than this agent,
// and reports whether it answered within gossip's probe timeout: a
// client's evidence that it is in contact with the fleet now. Gossip's own
// view is no such evidence: an agent cut off from everyone confirms no
// suspicion, so it holds the servers alive for up to
// SuspicionMaxTimeoutMult times longer than the fleet holds it
// (agent/liveness, docs/liveness.md). The servers take turns, one ping a
// tick (no more than gossip's own probes): a dead one that gossip still
// lists costs one tick in as many as there are servers, while the node
// fences only after several ticks without an answer.
func (m *membership) pingServer(self string) bool {
	n, ok := m.serverToPing(self)
	if !ok {
		return false
	}
	_, err := m.list.Ping(n.Name, &net.UDPAddr{IP: n.Addr, Port: int(n.Port)})
	return err == nil
}

// serverToPing is the server whose turn it is. The servers are listed
// once per change among them (membership_servers.go), not by going over
// every member at each tick: in a 1,000-node sim that scan was a tenth of
// the CPU.
func (m *membership) serverToPing(self string) (memberlist.Node, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	servers := m.serverList(self)
	m.pings++
	if len(servers) == 0 {
		return memberlist.Node{}, false
	}
	return servers[m.pings%len(servers)], true
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
