// Package chaos runs a reproducible schedule of faults against a lab fleet
// (kill -9 of the leader, a server or a client; partitions; heals; a
// rolling restart of every agent; losing quorum on purpose; scaling and
// writes while faults are active) and checks, all along and at the end,
// the promises shoal makes: what runs in containerd is what the state
// says, RCs get back to their count, acknowledged writes survive leader
// changes, no pod IP is used twice, and `lab down` leaves nothing behind.
package chaos

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// FaultKind is one kind of fault an episode injects.
type FaultKind string

const (
	KillLeader      FaultKind = "kill-leader"
	KillServer      FaultKind = "kill-server"
	KillClient      FaultKind = "kill-client"
	PartitionNode   FaultKind = "partition-node"
	PartitionLeader FaultKind = "partition-leader"
	// KillClientPartitionServer is two faults at once, still within
	// quorum: a client loses power while a follower server is cut off.
	KillClientPartitionServer FaultKind = "kill-client+partition-server"
	RollingRestart            FaultKind = "rolling-restart"
	// QuorumLoss cuts off two of three voters on purpose: nothing may be
	// acknowledged until the heal, after which the fleet must recover.
	QuorumLoss FaultKind = "quorum-loss"
	// KillTwoSeats cuts the power of two of three voters (the leader and
	// a follower): nothing may be acknowledged until both start again
	// from their data dirs, and nothing acknowledged before may be lost.
	KillTwoSeats FaultKind = "kill-two-seats"
	// ContainerdRestart kills containerd (SIGKILL) and starts it again
	// after the hold: the shims and containers stay, the agents lose
	// containerd meanwhile. The lab shares one containerd across its
	// nodes, so it is every node's at once.
	ContainerdRestart FaultKind = "containerd-restart"
)

// episodeKinds is one round of the schedule: every kind once, in an order
// the seed shuffles, so that any run long enough for one round covers all.
var episodeKinds = []FaultKind{
	KillLeader, KillServer, KillClient, PartitionNode, PartitionLeader,
	KillClientPartitionServer, RollingRestart, QuorumLoss, KillTwoSeats,
}

// laterKinds join each round at a place a second stream of the seed
// chooses, and take their own choices from it too: every seed keeps the
// episodes it had before they came (the CI's seed, the seeds docs/chaos.md
// reports), with theirs put in between.
var laterKinds = []FaultKind{ContainerdRestart}

// roundKinds is every kind a round holds.
func roundKinds() []FaultKind {
	return append(append([]FaultKind(nil), episodeKinds...), laterKinds...)
}

// OpKind is a write the runner makes while a fault is active.
type OpKind string

const (
	OpScale     OpKind = "scale"
	OpCreatePod OpKind = "create-pod"
	OpDeletePod OpKind = "delete-pod"
)

// Op is one write. Pick chooses among the candidates at run time (the RC
// to scale, the bare pod to delete) as Pick modulo their number, so that a
// seed names the same choice whenever the fleet is in the same shape.
type Op struct {
	Kind     OpKind
	Pick     uint32
	Replicas int32
	// After is the pause before the write, counted from the previous one.
	After time.Duration
}

func (o Op) String() string {
	if o.Kind == OpScale {
		return fmt.Sprintf("%s(#%d->%d)", o.Kind, o.Pick, o.Replicas)
	}
	return fmt.Sprintf("%s(#%d)", o.Kind, o.Pick)
}

// Episode is one fault, the writes made while it is active, how long it
// stays before the heal, and the pick of its victim among the candidates.
type Episode struct {
	N    int
	Kind FaultKind
	Pick uint32
	Ops  []Op
	Hold time.Duration
}

func (e Episode) String() string {
	ops := make([]string, len(e.Ops))
	for i, o := range e.Ops {
		ops[i] = o.String()
	}
	return fmt.Sprintf("#%d %s pick=%d hold=%v ops=[%s]", e.N, e.Kind, e.Pick, e.Hold, strings.Join(ops, " "))
}

// Schedule yields the episodes of one seed: the same seed gives the same
// sequence, whatever the fleet does in between.
type Schedule struct {
	rng *rand.Rand
	// later places laterKinds in each round and makes their choices;
	// nil leaves them out.
	later *rand.Rand
	round []FaultKind
	n     int
	// MaxReplicas bounds the replica counts scale ops ask for.
	MaxReplicas int32
}

// NewSchedule starts the schedule of seed.
func NewSchedule(seed uint64, maxReplicas int32) *Schedule {
	return &Schedule{rng: rand.New(rand.NewPCG(seed, seed^0x5eed5a0a1)), later: rand.New(rand.NewPCG(seed, seed^0x1a7e5)), MaxReplicas: maxReplicas}
}

// Next returns the next episode.
func (s *Schedule) Next() Episode {
	if len(s.round) == 0 {
		s.round = append([]FaultKind(nil), episodeKinds...)
		s.rng.Shuffle(len(s.round), func(i, j int) { s.round[i], s.round[j] = s.round[j], s.round[i] })
		if s.later != nil {
			for _, k := range laterKinds {
				s.round = slices.Insert(s.round, s.later.IntN(len(s.round)+1), k)
			}
		}
	}
	kind := s.round[0]
	s.round = s.round[1:]
	s.n++
	rng := s.rng
	if slices.Contains(laterKinds, kind) {
		rng = s.later
	}
	e := Episode{N: s.n, Kind: kind, Pick: rng.Uint32(), Hold: time.Duration(4+rng.IntN(8)) * time.Second}
	nops := 1 + rng.IntN(3)
	for range nops {
		op := Op{Pick: rng.Uint32(), After: time.Duration(500+rng.IntN(2500)) * time.Millisecond}
		switch r := rng.IntN(10); {
		case r < 5:
			op.Kind = OpScale
			op.Replicas = int32(rng.IntN(int(s.MaxReplicas) + 1))
		case r < 8:
			op.Kind = OpCreatePod
		default:
			op.Kind = OpDeletePod
		}
		e.Ops = append(e.Ops, op)
	}
	return e
}
