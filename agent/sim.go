package agent

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/agent/node"
	"github.com/shoal-dev/shoal/agent/node/hollow"
	"github.com/shoal-dev/shoal/consensus"
)

// A sim is a fleet of hollow agents in one process: each is the real
// agent (gossip, API, Raft on its seats with the log on disk, the leader's
// controllers, the node reconciler and its status reports) over the
// in-memory runtime and network of agent/node/hollow, on its own loopback
// address. docs/scale.md says what is real and what is not.

// SimConfig describes a sim fleet.
type SimConfig struct {
	Nodes int
	// Seats is how many agents hold Raft seats (the first ones); 0 means
	// 5, or every node of a smaller fleet.
	Seats int
	// FirstAddr is the first node's address; the others follow it
	// (127.77.0.1, 127.77.0.2, ...). It must be a loopback address, and so
	// must the last one.
	FirstAddr netip.Addr
	// APIPort, RaftPort and GossipPort are every node's (each node has an
	// address of its own).
	APIPort, RaftPort, GossipPort int
	// Dir holds every node's data directory; the caller removes it.
	Dir string
	// Memory, CPU and MaxPods are each node's allocatable resources.
	Memory, CPU string
	MaxPods     int
	BlockBits   int // each node's pod block (prefix length); 0: the agent's /24
	NodeGrace   time.Duration
	Log         *slog.Logger
	// GossipCompression keeps memberlist's compression of gossip messages
	// (every agent's default). The sim turns it off unless asked: every
	// agent's gossip shares this process's cores, and compressing each
	// message (a fresh LZW table per message) cost about a third of a
	// 100-node sim's CPU (docs/scale.md).
	GossipCompression bool
	// StartEvery spaces the clients' starts (the seats start at once); 0
	// starts every agent at once.
	StartEvery time.Duration
	// GossipProfile is every agent's (agent/liveness); "" picks the LAN
	// profile up to LargeSimNodes nodes and the large one above.
	GossipProfile string
	// TuneGossip, if set, changes every agent's memberlist settings after
	// the sim's own (experiments with the sim's gossip; nil for the sim's).
	TuneGossip func(*memberlist.Config)
}

// LargeSimNodes is the largest sim that gossips with the LAN profile
// when none is named: above it, a hundred agents sharing two cores miss
// the LAN's 200 ms probe timeouts, and the large profile's quarter of the
// probe traffic is what lets the fleet form (docs/scale.md).
const LargeSimNodes = 100

// simHandoffQueue is memberlist's queue of received gossip messages
// awaiting its handler (HandoffQueueDepth, 1,024 by default); each agent
// has two (alive messages, and the rest). It was 8,192 while a sim's
// agents started all at once and every agent heard each one's alive
// message several times over. Clients start apart now (simStartEvery), and
// a deep queue buys nothing when the handler falls behind: memberlist
// handles the newest message first (LIFO), so once a queue is full its
// oldest messages wait there until the flood ends, and new ones are
// dropped all the same. Each queued message holds its whole packet; in a
// 1,000-node sim the thousand full 8,192-deep queues held 17.5 GiB of
// heap (docs/scale.md, session 20). At 1,024, the default, they hold at
// most an eighth of that, and a message dropped is one every member hears
// several times (RetransmitMult) and push-pull repairs.
const simHandoffQueue = 1024

// simRaftTimeouts gives a large sim's seats five times consensus's
// default heartbeat and election timeouts (1 s), and three times its
// leader lease. The seats share two cores with hundreds of agents: a
// vote or heartbeat that waits a second for the scheduler started
// elections over and over in a 1,000-node start (375 in four minutes),
// and no leader means no node is registered. Seats on machines of their
// own do not wait like that; the sim's failover figures count these
// longer timeouts only where a seat is killed, which the scale report
// does not do (it kills clients).
func simRaftTimeouts(c *consensus.Config) {
	c.HeartbeatTimeout = 5 * time.Second
	c.ElectionTimeout = 5 * time.Second
	c.LeaderLeaseTimeout = 1500 * time.Millisecond
}

// simPodCIDR is the sim's cluster range: 32,768 blocks of /24. The
// agent's default, 10.244.0.0/16, has 256, and a fleet of more nodes
// than that cannot register the rest ("no free /24 block left").
const simPodCIDR = "10.128.0.0/9"

// gossipProfile is the profile the sim gives its agents.
func (c SimConfig) gossipProfile() string {
	if c.GossipProfile == "" && c.Nodes > LargeSimNodes {
		return liveness.ProfileLarge
	}
	return c.GossipProfile
}

// DefaultSimConfig is a fleet of n hollow nodes with room for 110 pods each.
func DefaultSimConfig(n int, dir string) SimConfig {
	return SimConfig{
		Nodes: n, FirstAddr: netip.MustParseAddr("127.77.0.1"),
		APIPort: 17080, RaftPort: 17081, GossipPort: 17946,
		Dir: dir, Memory: "64Gi", CPU: "32", MaxPods: 110,
		Log:        slog.New(slog.DiscardHandler),
		StartEvery: simStartEvery(n),
	}
}

// simStartEvery spaces a large sim's clients' starts: all at once, every
// join's push-pull and every alive message landed in the same second on
// two cores, memberlist's queues overflowed and the news of some joins
// died out before it reached every member (docs/scale.md). The news of
// one join is handled by every member, several times over (memberlist's
// retransmits), so the fleet's work per join grows with the fleet: the
// spacing does too, 50 µs per node and at least 10 ms (15 ms at 300
// nodes, 50 ms at 1,000, whose clients then start over 50 s), to keep
// the work per second of a start about the same at any size. A fleet of
// up to LargeSimNodes starts at once.
func simStartEvery(n int) time.Duration {
	if n > LargeSimNodes {
		return max(10*time.Millisecond, time.Duration(n)*simStartPerNode)
	}
	return 0
}

// simStartPerNode is simStartEvery's spacing per node of the fleet. A
// 600-node start 25 ms apart (42 µs per node) formed, once the alive
// checks were cached (membership_alive_cache.go), but left goroutines waiting
// seconds to run for half a minute (docs/scale.md, session 22).
const simStartPerNode = 50 * time.Microsecond

// Sim is a running sim fleet.
type Sim struct {
	cfg      SimConfig
	nodes    []*SimNode
	stopping chan struct{} // closed by Stop: start the rest at once
}

// SimNode is one hollow agent of a sim.
type SimNode struct {
	Name    string
	Addr    string // its loopback address
	Seat    bool
	Runtime *hollow.Runtime
	Network *hollow.Network

	a      atomic.Pointer[Agent] // the running agent, once gossip is up
	cancel context.CancelCauseFunc
	done   chan error
}

// StartSim starts every node of the fleet and returns at once; the nodes
// join the first seat's gossip. Stop ends them all.
func StartSim(ctx context.Context, cfg SimConfig) (*Sim, error) {
	if cfg.Nodes < 1 {
		return nil, fmt.Errorf("sim nodes %d: must be at least 1", cfg.Nodes)
	}
	if cfg.Seats == 0 {
		cfg.Seats = min(5, cfg.Nodes)
	}
	if cfg.Seats < 1 || cfg.Seats > cfg.Nodes {
		return nil, fmt.Errorf("sim seats %d: must be between 1 and the %d nodes", cfg.Seats, cfg.Nodes)
	}
	addrs, err := simAddrs(cfg.FirstAddr, cfg.Nodes)
	if err != nil {
		return nil, err
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Sim{cfg: cfg, stopping: make(chan struct{})}
	var later []func() // clients spaced by StartEvery
	var gossipAddrs []string
	for _, a := range addrs {
		gossipAddrs = append(gossipAddrs, hostPort(a.String(), cfg.GossipPort))
	}
	joins := simJoins(gossipAddrs, cfg.Seats, cfg.StartEvery)
	for i, addr := range addrs {
		n := &SimNode{Name: fmt.Sprintf("h%04d", i+1), Addr: addr.String(), Seat: i < cfg.Seats,
			Runtime: hollow.NewRuntime(), Network: hollow.NewNetwork(),
			done: make(chan error, 1)}
		ac := DefaultConfig()
		ac.Name = n.Name
		ac.DataDir = filepath.Join(cfg.Dir, n.Name)
		ac.BindAddr = n.Addr
		ac.APIPort, ac.RaftPort, ac.GossipPort = cfg.APIPort, cfg.RaftPort, cfg.GossipPort
		ac.Join = joins[i]
		if n.Seat {
			ac.BootstrapExpect = cfg.Seats
		}
		ac.Servers = cfg.Seats
		ac.Memory, ac.CPU, ac.MaxPods = cfg.Memory, cfg.CPU, cfg.MaxPods
		ac.BlockBits = cmp.Or(cfg.BlockBits, ac.BlockBits)
		ac.NodeGrace = cfg.NodeGrace
		ac.PodCIDR = simPodCIDR
		ac.GossipProfile = cfg.gossipProfile()
		ac.DNSAddr = "off"
		// The agents share one process: any node's /debug/pprof/ profiles them all.
		ac.DebugPprof = true
		log := cfg.Log.With("node", n.Name)
		compress := cfg.GossipCompression
		large := ac.GossipProfile == liveness.ProfileLarge
		ac.tuneGossip = func(mc *memberlist.Config) error {
			mc.EnableCompression = compress
			mc.HandoffQueueDepth = simHandoffQueue
			if cfg.TuneGossip != nil {
				cfg.TuneGossip(mc)
			}
			return copyingTransportFor(mc, log.With("part", "gossip")) // gossip_transport.go
		}
		if large {
			ac.tuneRaft = simRaftTimeouts
		}
		rt, nw := n.Runtime, n.Network
		ac.NodeBackend = func() (node.PodRuntime, node.Network) { return rt, nw }
		ac.started = n.a.Store
		var actx context.Context
		actx, n.cancel = context.WithCancelCause(ctx)
		run := func() { go func() { n.done <- Run(actx, ac, log) }() }
		if n.Seat || cfg.StartEvery <= 0 {
			run()
		} else {
			later = append(later, run)
		}
		s.nodes = append(s.nodes, n)
	}
	if len(later) > 0 {
		go func() {
			for _, run := range later {
				select {
				case <-time.After(cfg.StartEvery):
				case <-s.stopping:
				case <-ctx.Done():
				}
				run()
			}
		}()
	}
	return s, nil
}

// simJoins is whom each node (the seats first) joins: nobody for the
// first node, the first for the other seats. A client started at once
// with the rest joins one seat, in turn: one agent answering hundreds of
// joins at once was that node's whole share of the CPU in a 300-node
// start. A client started after others (StartEvery) joins one node that
// started at least simJoinSettled before it, seat or client, chosen at
// random: the fleet answers the joins, not the five seats whose Raft
// shares the cores, and each join's news starts from a different member.
// One address each, as memberlist's Join syncs with every address it is
// given.
func simJoins(addrs []string, seats int, every time.Duration) [][]string {
	rng := rand.New(rand.NewPCG(uint64(len(addrs)), 23)) // the same fleet each run
	settled := len(addrs)
	if every > 0 {
		settled = int((simJoinSettled + every - 1) / every)
	}
	out := make([][]string, len(addrs))
	for i := 1; i < len(addrs); i++ {
		switch {
		case i < seats:
			out[i] = addrs[:1]
		case i-settled >= seats:
			out[i] = []string{addrs[rng.IntN(i-settled+1)]}
		default:
			out[i] = []string{addrs[i%seats]}
		}
	}
	return out
}

// simJoinSettled is how long before a client a node must have started
// for the client to join through it: long enough for its own join to be
// done, so that a join never lands on a member of no fleet yet.
const simJoinSettled = time.Second

// simAddrs are n consecutive loopback addresses from first.
func simAddrs(first netip.Addr, n int) ([]netip.Addr, error) {
	loopback := netip.MustParsePrefix("127.0.0.0/8")
	out := make([]netip.Addr, 0, n)
	for a := first; len(out) < n; a = a.Next() {
		if !loopback.Contains(a) {
			return nil, fmt.Errorf("sim address %v: the fleet of %d nodes from %v leaves 127.0.0.0/8 (the sim stays on loopback)", a, n, first)
		}
		if b := a.As4(); b[3] == 0 || b[3] == 255 {
			continue
		}
		out = append(out, a)
	}
	return out, nil
}

// Nodes returns the fleet's nodes, seats first.
func (s *Sim) Nodes() []*SimNode { return s.nodes }

// API is the base URL of a node's API.
func (s *Sim) API(n *SimNode) string { return "http://" + hostPort(n.Addr, s.cfg.APIPort) }

// GossipMembers is how many live members the node's gossip holds (0
// before it started).
func (n *SimNode) GossipMembers() int {
	a := n.a.Load()
	if a == nil {
		return 0
	}
	return a.members.list.NumMembers()
}

// Kill stops the node as a crash would: no goodbye to gossip, its pods
// left as they were in its runtime. It waits until the agent stopped.
func (n *SimNode) Kill() error {
	n.cancel(ErrCrash)
	err := <-n.done
	n.done <- nil // a later Kill or Stop returns at once
	return err
}

// Stop stops the node as its agent's own graceful stop would (SIGTERM):
// it says goodbye to gossip and, leading, hands leadership on. It waits
// until the agent stopped.
func (n *SimNode) Stop() error {
	n.cancel(context.Canceled)
	err := <-n.done
	n.done <- nil // a later Kill or Stop returns at once
	return err
}

// Stop stops every node still running (gracefully) and waits for them.
func (s *Sim) Stop() error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	select {
	case <-s.stopping: // stopped before
	default:
		close(s.stopping)
	}
	for _, n := range s.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.cancel(context.Canceled)
			if err := <-n.done; err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", n.Name, err))
				mu.Unlock()
			}
			n.done <- nil // a later Kill or Stop returns at once
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
