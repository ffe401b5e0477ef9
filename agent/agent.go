// Package agent composes shoal's parts into the one agent every machine
// runs: gossip membership, an optional Raft seat, the Kubernetes-shaped
// HTTP API, the leader's controllers and the node reconciler.
package agent

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shoal-dev/shoal/agent/apiserver"
	"github.com/shoal-dev/shoal/agent/node"
	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
	"github.com/shoal-dev/shoal/placement"
)

// stateStore is the local copy of the cluster state that Raft keeps.
type stateStore interface {
	Pod(namespace, name string) (*api.Pod, error)
	Pods(filter func(*api.Pod) bool) ([]*api.Pod, uint64)
	PodsOnNode(node string) ([]*api.Pod, uint64)
	Node(name string) (*api.Node, error)
	Nodes() ([]*api.Node, uint64)
	NodeInfos() []placement.NodeInfo
	AppendNodeInfos(dst []placement.NodeInfo) []placement.NodeInfo
	FreePodIP(node string) (netip.Addr, error)
	FreePodIPs(node string, n int) ([]netip.Addr, error)
	Index() uint64
	WaitIndex(ctx context.Context, after uint64) (uint64, error)
	Events(filter func(*api.Event) bool) ([]*api.Event, uint64)
}

// raftLog is how the agent writes (through the Raft leader) and what it
// asks its seat before acting on the local state; consensus.Raft is the
// one implementation.
type raftLog interface {
	Apply(ctx context.Context, cmd consensus.Command) (*consensus.Result, error)
	IsLeader() bool
	Leader() (id, addr string)
	LeaderCh() <-chan bool
	Shutdown() error

	// Barrier waits until the local state holds everything committed
	// before it; a new leader's controllers start only after one.
	Barrier(ctx context.Context) error
	// VerifyLeader confirms with a quorum that this server still leads.
	VerifyLeader(ctx context.Context) error
	// LastContact is when this server last knew it was in touch with the
	// leader (on the leader: when a quorum last confirmed it).
	LastContact() time.Time
	// CaughtUp reports whether the local state may be served to a node.
	CaughtUp(ctx context.Context) bool
	// TransferLeadership hands leadership on (id empty: to any voter).
	TransferLeadership(ctx context.Context, id string) error
	// LeaderReady reports whether this server leads and a Barrier passed
	// in its current term.
	LeaderReady() bool
}

var _ raftLog = (*consensus.Raft)(nil)

// Agent is one running shoal agent.
type Agent struct {
	cfg     Config
	log     *slog.Logger
	members *membership
	self    nodeMeta
	// membersView is members as the API reads them (members_view.go).
	membersView membersView

	// role is set on servers; agent/raft_role.go.
	role atomic.Pointer[serverRole]
	// reads gives linearizable reads their index (apiserver/readindex.go);
	// nil: ask the Raft leader, as every running agent does.
	reads apiserver.ReadIndexer
	// spawn starts a loop that stops with the agent (set by Run).
	spawn func(name string, fn func(context.Context))

	runtime runtimeRef
	events  *eventBatcher // agent/events.go
	fence   *node.Fencer  // agent/wire_node.go

	sec     security // agent/auth.go
	metrics *metrics // agent/metrics.go

	seat seatState // agent/seats.go
}

// Run starts the agent and blocks until ctx is done. Stopping the agent
// stops nothing it started in containerd: its pods keep running and the
// next agent adopts them.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	if cfg.BootstrapExpect > 0 {
		cfg.Server = true
	}
	restoreSeat(&cfg) // agent/seats.go
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("agent config: %w", err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	mem, cpu, err := allocatable(cfg)
	if err != nil {
		return err
	}
	a := &Agent{cfg: cfg, log: log}
	if err := a.setupSecurity(); err != nil {
		return err
	}
	a.metrics = newMetrics(a)
	a.events = newEventBatcher(a)
	adv := cfg.advertise()
	a.self = nodeMeta{V: 1, API: hostPort(adv, cfg.APIPort), Server: cfg.Server, Memory: mem, CPU: cpu, Pods: cfg.MaxPods, Labels: cfg.nodeLabels(), Liveness: cfg.livenessSignature()}
	if cfg.Server {
		a.self.Raft = hostPort(adv, cfg.RaftPort)
	}

	ln, err := net.Listen("tcp", hostPort(cfg.BindAddr, cfg.APIPort))
	if err != nil {
		return fmt.Errorf("listen for the API: %w", err)
	}
	if a.sec.serverTLS != nil {
		ln = tls.NewListener(ln, a.sec.serverTLS)
	}
	apiSrv := a.apiServer()
	srv := apiserver.NewHTTPServer(apiSrv.Handler())

	a.members, err = newMembership(cfg, a.self, log)
	if err != nil {
		ln.Close()
		return err
	}
	defer a.stopGossip(ctx) // agent/crash.go
	if cfg.started != nil {
		cfg.started(a) // agent/sim.go
	}

	if cfg.Server {
		role, err := a.startRaft(ctx, a.self.Raft)
		if err != nil {
			ln.Close()
			return err
		}
		a.role.Store(role)
	}
	// Also stops a seat the fleet gave this agent while it ran; a leader
	// that stops on purpose hands leadership on first (raft_handover.go).
	defer func(ctx context.Context) {
		if role := a.role.Load(); role != nil {
			a.handOverLeadership(ctx, role.raft)
			if err := role.raft.Shutdown(); err != nil {
				log.Warn("stop raft", "err", err)
			}
		}
	}(ctx)

	var (
		wg      sync.WaitGroup
		loopsMu sync.Mutex
		stopped bool // no loop starts once the agent stops
	)
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		loopsMu.Lock()
		stopped = true
		loopsMu.Unlock()
		wg.Wait()
	}()
	goFn := func(name string, fn func(context.Context)) {
		loopsMu.Lock()
		defer loopsMu.Unlock()
		if stopped {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(ctx)
			log.Debug("stopped", "loop", name)
		}()
	}
	a.spawn = goFn
	a.fence = a.newFencer() // agent/wire_node.go
	goFn("join", a.joinLoop)
	if cfg.Server {
		goFn("bootstrap", a.bootstrapLoop)
		goFn("leader", a.leaderLoop)
	}
	goFn("node", a.runNode)
	goFn("logrotate", a.rotateLogsLoop)
	goFn("events", a.events.run)
	goFn("fence", a.fenceLoop)
	goFn("forward-cut", func(ctx context.Context) { a.cutForwardsToTheFailed(ctx, apiSrv) })
	if cfg.RestartGrace > 0 || cfg.NodeBackend == nil { // an earlier run's mark goes too
		goFn("restart-mark", a.clearRestartMark) // restart_planned.go
	}
	if cfg.NodeBackend == nil { // one agent per process: not the sim's hollow ones
		goFn("startup-pages", func(ctx context.Context) { releaseStartupPagesLater(ctx, log) }) // startup_pages.go
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("agent started", "api", a.self.API, "raft", a.self.Raft, "server", cfg.Server, "memory", mem, "cpu", cpu)

	select {
	case <-ctx.Done():
		a.markPlannedRestart(ctx) // restart_planned.go
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("API server: %w", err)
		}
	}
	shutCtx, done := context.WithTimeout(context.Background(), 3*time.Second)
	defer done()
	_ = srv.Shutdown(shutCtx)
	log.Info("agent stopping; pods keep running")
	return nil
}

// joinLoop keeps trying to join the fleet until it succeeds: the agents of
// a fleet start in any order.
func (a *Agent) joinLoop(ctx context.Context) {
	// A restarted agent also tries the members an earlier run saw
	// (membership_peers.go), so one started without --join finds the
	// fleet again.
	addrs := joinAddrs(a.cfg.Join, rememberedPeers(a.cfg.DataDir))
	if len(addrs) == 0 {
		return
	}
	backoff := 200 * time.Millisecond
	for {
		err := a.members.join(addrs)
		if err == nil {
			a.log.Info("joined the fleet", "via", addrs)
			return
		}
		if gossipKeyMismatch(err) {
			a.log.Error("cannot join the fleet: gossip encryption differs (this agent's --encrypt key is missing or not the fleet's)", "via", addrs, "err", err)
		} else if livenessRefused(err) {
			a.log.Error("cannot join the fleet: its gossip profile or node grace differs from this agent's", "via", addrs, "err", err)
		} else {
			a.log.Debug("join failed, retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		if backoff < 5*time.Second {
			backoff *= 2
		}
	}
}

func (a *Agent) dataPath(parts ...string) string {
	return filepath.Join(append([]string{a.cfg.DataDir}, parts...)...)
}
