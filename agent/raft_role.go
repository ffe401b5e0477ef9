package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/shoal-dev/shoal/consensus"
)

// serverRole is this agent's Raft seat: the state machine and the log.
// A client that the fleet promotes gets one while its API serves requests
// and its loops run, so it is published through Agent.role (an atomic
// pointer) and never changed in place. An agent never loses its role while
// it runs: once a.isServer() is true, a.fsm() and a.raft() stay non-nil.
type serverRole struct {
	fsm  stateStore
	raft raftLog
}

// isServer tells whether this agent holds a Raft seat now.
func (a *Agent) isServer() bool { return a.role.Load() != nil }

// fsm is the local state; nil on a client.
func (a *Agent) fsm() stateStore {
	if r := a.role.Load(); r != nil {
		return r.fsm
	}
	return nil
}

// raft is the log this server writes through; nil on a client.
func (a *Agent) raft() raftLog {
	if r := a.role.Load(); r != nil {
		return r.raft
	}
	return nil
}

// startRaft opens this server's Raft seat: its log, snapshots and
// transport, advertised at addr. The caller publishes it.
func (a *Agent) startRaft(ctx context.Context, addr string) (*serverRole, error) {
	fsm := consensus.NewFSM()
	rc := consensus.Config{
		ID:            a.cfg.Name,
		DataDir:       a.dataPath("raft"),
		BindAddr:      hostPort(a.cfg.BindAddr, a.cfg.RaftPort),
		AdvertiseAddr: addr,
		Log:           a.log.With("part", "raft"),
		TLS:           a.sec.raftTLS, // agent/tls.go
	}
	// The lease and the leader's heartbeat are the liveness budget's
	// (docs/liveness.md): the heartbeats' gaps fit in the fence's contact
	// window with a margin.
	rt := a.cfg.liveness().Budget().Raft()
	rc.LeaderLeaseTimeout, rc.LeaderHeartbeatTimeout = rt.LeaderLeaseTimeout, rt.LeaderHeartbeatTimeout
	if a.cfg.tuneRaft != nil {
		a.cfg.tuneRaft(&rc) // agent/sim.go
	}
	r, err := consensus.OpenOnDisk(rc, fsm)
	if err != nil {
		return nil, fmt.Errorf("open raft: %w", err)
	}
	return &serverRole{fsm: fsm, raft: r}, nil
}

// bootstrapLoop waits until --bootstrap-expect servers have met by gossip,
// then bootstraps Raft with exactly those. Every server computes the same
// set (the first ones by name), and a server with Raft state already on
// disk never bootstraps again.
func (a *Agent) bootstrapLoop(ctx context.Context) {
	for {
		changed := a.members.changes()
		var servers []consensus.Server
		for _, m := range a.members.members() {
			if m.Alive && m.Meta.Server && m.Meta.Raft != "" {
				servers = append(servers, consensus.Server{ID: m.Name, Address: m.Meta.Raft, Voter: true})
			}
		}
		if len(servers) >= a.cfg.BootstrapExpect {
			servers = servers[:a.cfg.BootstrapExpect]
			if !containsServer(servers, a.cfg.Name) {
				a.log.Info("not among the bootstrap servers; waiting to be added", "servers", len(servers))
				return
			}
			b, ok := a.raft().(bootstrapper)
			if !ok {
				a.log.Error("cannot bootstrap raft: this seat does not bootstrap", "seat", fmt.Sprintf("%T", a.raft()))
				return
			}
			if err := b.BootstrapIfNew(servers); err != nil {
				a.log.Error("bootstrap raft", "err", err)
			} else {
				a.log.Info("raft bootstrapped or already had state", "servers", len(servers))
			}
			return
		}
		a.log.Info("waiting for servers to bootstrap raft", "have", len(servers), "expect", a.cfg.BootstrapExpect)
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-time.After(2 * time.Second):
		}
	}
}

// bootstrapper is a seat that can form the first configuration.
type bootstrapper interface {
	BootstrapIfNew(servers []consensus.Server) error
}

var _ bootstrapper = (*consensus.Raft)(nil)

func containsServer(servers []consensus.Server, name string) bool {
	for _, s := range servers {
		if s.ID == name {
			return true
		}
	}
	return false
}
