package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/shoal-dev/shoal/agent/controllers"
	"github.com/shoal-dev/shoal/api"
)

// DefaultMaxPods is the pods a node takes unless --max-pods says
// otherwise: the kubelet's default, which node registration applies to a
// member that gossips none.
const DefaultMaxPods = controllers.DefaultMaxPods

// leaderLoop runs the leader's controllers (package agent/controllers)
// while this server's seat leads. It is started once per seat: when the
// agent starts as a server, or when the fleet promotes it (seats.go).
func (a *Agent) leaderLoop(ctx context.Context) {
	seat := a.raft()
	deps := controllers.Deps{
		State:   a.fsm(),
		Seat:    seat,
		Members: controllerMembers{a.members},
		Events:  leaderEvents{a},
		Metrics: leaderMetrics{a.metrics},
		Opener:  seatOpener{a},
	}
	if admin, ok := seat.(controllers.SeatAdmin); ok {
		deps.Seats = admin
	}
	l, err := controllers.New(controllers.Config{
		Name:           a.cfg.Name,
		PodCIDR:        a.cfg.PodCIDR,
		BlockBits:      a.cfg.BlockBits,
		Liveness:       a.cfg.liveness(),
		Servers:        a.cfg.Servers,
		SeatZone:       a.cfg.SeatZone,
		GossipPort:     a.cfg.GossipPort,
		KubeletVersion: Version,
		ServiceCIDR:    a.cfg.ServiceCIDR,
		Log:            a.log,
	}, deps)
	if err != nil {
		a.log.Error("leader's controllers cannot run", "err", err)
		return
	}
	l.Run(ctx)
}

// controllerMembers is gossip's view as the controllers read it.
type controllerMembers struct{ m *membership }

func (c controllerMembers) Members() []controllers.Member {
	ms := c.m.members()
	out := make([]controllers.Member, 0, len(ms))
	for _, m := range ms {
		out = append(out, controllerMember(m))
	}
	return out
}

func (c controllerMembers) Changes() <-chan struct{} { return c.m.changes() }

func (c controllerMembers) Join(addrs []string) error { return c.m.join(addrs) }

func (c controllerMembers) Failed(name string) bool { return c.m.failedVerdict(name) }

func controllerMember(m member) controllers.Member {
	return controllers.Member{
		Name: m.Name, Addr: m.Addr, Alive: m.Alive,
		API: m.Meta.API, Raft: m.Meta.Raft, Server: m.Meta.Server,
		Memory: m.Meta.Memory, CPU: m.Meta.CPU, Pods: m.Meta.Pods, Labels: m.Meta.Labels,
	}
}

// leaderEvents records what the controllers observe as the scheduler's
// events (events.go).
type leaderEvents struct{ a *Agent }

func (e leaderEvents) LeaderEvent(pod *api.Pod, eventType, reason, message string) {
	e.a.recordLeaderEvent(pod, eventType, reason, message)
}

// leaderMetrics counts placements on /metrics (metrics.go).
type leaderMetrics struct{ m *metrics }

func (l leaderMetrics) Placed()          { l.m.placed() }
func (l leaderMetrics) PlacementFailed() { l.m.placementFailed() }

// seatOpener asks a client over its API to open a Raft seat (POST
// /shoal/v1/seat, answered by openSeat in seats.go).
type seatOpener struct{ a *Agent }

func (o seatOpener) OpenSeat(ctx context.Context, m controllers.Member) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+m.API+"/shoal/v1/seat", nil)
	if err != nil {
		return "", err
	}
	resp, err := o.a.internalClient(30 * time.Second).Do(req)
	if err != nil {
		return "", fmt.Errorf("ask %s to open a seat: %w", m.Name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("ask %s to open a seat: HTTP %d", m.Name, resp.StatusCode)
	}
	var ans seatAnswer
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || ans.Raft == "" {
		return "", fmt.Errorf("ask %s to open a seat: bad answer: %v", m.Name, err)
	}
	return ans.Raft, nil
}
