package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/shoal-dev/shoal/consensus"
	"github.com/shoal-dev/shoal/placement"
)

// seatAdmin is what the leader needs to change the Raft configuration.
type seatAdmin interface {
	Servers() ([]consensus.Server, error)
	AddVoter(ctx context.Context, id, addr string) error
	AddNonvoter(ctx context.Context, id, addr string) error
	RemoveServer(ctx context.Context, id string) error
}

// seatState serialises opening a Raft seat on a promoted client, and
// times voters whose agent runs without its seat.
type seatState struct {
	mu       sync.Mutex
	seatless deathClock
}

// promotedMarker, inside the Raft data dir, tells a restarted agent that
// the fleet gave it a seat: it keeps the seat although its command line
// says client. Moving the Raft data aside drops it too.
const promotedMarker = "promoted"

// restoreSeat makes cfg a server when the fleet promoted this agent
// before it restarted.
func restoreSeat(cfg *Config) {
	if cfg.Server {
		return
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "raft", promotedMarker)); err != nil {
		return
	}
	cfg.Server = true
	if cfg.BootstrapExpect < 1 {
		// It has Raft state, so it never bootstraps; Validate wants one.
		cfg.BootstrapExpect = 1
	}
}

// seatInterval is how often the leader reviews the Raft configuration.
const seatInterval = time.Second

// seatController keeps --servers voters while enough agents live: a
// voter that gossip has held failed for longer than the grace period is
// removed, and a healthy agent takes its seat (a returning server first,
// else a client, which opens a seat with an empty log when asked). A
// server that returns to a full configuration rejoins without a vote, so
// it follows the state like a client does.
func (a *Agent) seatController(ctx context.Context) {
	admin, ok := a.raft().(seatAdmin)
	if !ok {
		a.log.Error("seat healing off: this seat cannot change the Raft configuration", "seat", fmt.Sprintf("%T", a.raft()))
		return
	}
	tick := time.NewTicker(seatInterval)
	defer tick.Stop()
	for {
		if err := a.reviewSeats(ctx, admin); err != nil && ctx.Err() == nil {
			a.log.Warn("raft seats", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (a *Agent) reviewSeats(ctx context.Context, admin seatAdmin) error {
	servers, err := admin.Servers()
	if err != nil {
		return err
	}
	byName := map[string]member{}
	for _, m := range a.members.members() {
		byName[m.Name] = m
	}
	inConfig := map[string]bool{} // name: voter
	voters := 0
	for _, s := range servers {
		id := string(s.ID)
		m, ok := byName[id]
		if !ok {
			m = member{Name: id}
		}
		// An agent that came back without its seat (restarted as a
		// client) holds a vote it cannot cast: it goes like a dead one.
		seatless := a.seat.seatless.deadFor(member{Name: id, Alive: !m.Alive || m.Meta.Server}, time.Now()) > a.cfg.nodeGrace()
		if id != a.cfg.Name && (!a.aliveForFleet(m) || seatless) {
			a.log.Info("removing a server that is gone or runs without its seat for longer than the grace period", "server", id)
			if err := admin.RemoveServer(ctx, id); err != nil {
				return err
			}
			continue
		}
		inConfig[id] = s.Voter
		if s.Voter {
			voters++
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	// A returning server with a seat of its own follows without a vote.
	for _, n := range names {
		m := byName[n]
		if _, ok := inConfig[n]; ok || !m.Alive || !m.Meta.Server || m.Meta.Raft == "" {
			continue
		}
		a.log.Info("server back without a seat: it follows the log without a vote", "server", n)
		if err := admin.AddNonvoter(ctx, n, m.Meta.Raft); err != nil {
			return err
		}
		inConfig[n] = false
	}
	if voters >= a.cfg.Servers {
		return nil
	}
	cand, addr, err := a.seatCandidate(ctx, names, byName, inConfig)
	if err != nil || cand == "" {
		return err
	}
	a.log.Info("promoting an agent to a Raft voter", "agent", cand, "raft", addr, "voters", voters, "want", a.cfg.Servers)
	return admin.AddVoter(ctx, cand, addr)
}

// seatCandidate picks the agent to promote: a live non-voter first, else
// a live client whose node is Ready, which is asked to open its seat.
func (a *Agent) seatCandidate(ctx context.Context, names []string, byName map[string]member, inConfig map[string]bool) (string, string, error) {
	for _, n := range names {
		voter, ok := inConfig[n]
		if m := byName[n]; ok && !voter && m.Alive && m.Meta.Raft != "" {
			return n, m.Meta.Raft, nil
		}
	}
	for _, n := range names {
		m := byName[n]
		if _, ok := inConfig[n]; ok || !m.Alive || m.Meta.Server {
			continue
		}
		if node, err := a.fsm().Node(n); err != nil || !placement.NodeReady(node) {
			continue
		}
		addr, err := a.askToOpenSeat(ctx, m)
		if err != nil {
			a.log.Warn("agent could not open a Raft seat", "agent", n, "err", err)
			continue
		}
		return n, addr, nil
	}
	return "", "", nil
}

// seatAnswer is the answer of POST /shoal/v1/seat.
type seatAnswer struct {
	Raft string `json:"raft"`
}

func (a *Agent) askToOpenSeat(ctx context.Context, m member) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+m.Meta.API+"/shoal/v1/seat", nil)
	if err != nil {
		return "", err
	}
	resp, err := a.internalClient(30 * time.Second).Do(req)
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

// openSeat is POST /shoal/v1/seat: the leader asks this client to hold a
// Raft seat. It opens one with an empty log (any old Raft data is moved
// aside: the fleet's log is the truth), tells the fleet by gossip, and
// runs the leader's loop like any server; the leader then adds it as a
// voter and Raft sends it the state.
func (a *Agent) openSeat(w http.ResponseWriter, r *http.Request) {
	a.seat.mu.Lock()
	defer a.seat.mu.Unlock()
	raftAddr := hostPort(a.cfg.advertise(), a.cfg.RaftPort)
	if a.isServer() {
		writeJSON(w, http.StatusOK, seatAnswer{Raft: raftAddr})
		return
	}
	old := a.dataPath("raft")
	if _, err := os.Stat(old); err == nil {
		if err := os.Rename(old, fmt.Sprintf("%s.old-%d", old, time.Now().Unix())); err != nil {
			writeError(w, a.log, fmt.Errorf("move old raft data aside: %w", err))
			return
		}
	}
	role, err := a.startRaft(r.Context(), raftAddr)
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	if err := os.WriteFile(filepath.Join(a.dataPath("raft"), promotedMarker), nil, 0o600); err != nil {
		a.log.Warn("record the promotion", "err", err)
	}
	// From here on handlers and loops see a server; a.self stays as Run
	// made it (readers use only its API address), gossip gets a copy.
	a.role.Store(role)
	self := a.self
	self.Server = true
	self.Raft = raftAddr
	if err := a.members.setMeta(self); err != nil {
		a.log.Warn("tell the fleet about the new seat", "err", err)
	}
	// The seat lives as long as the agent, not as this request.
	a.spawn("leader", a.leaderLoop)
	a.log.Info("opened a Raft seat at the leader's request", "raft", raftAddr)
	writeJSON(w, http.StatusOK, seatAnswer{Raft: raftAddr})
}

// setMeta changes what this agent gossips about itself.
func (m *membership) setMeta(meta nodeMeta) error {
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
	return m.list.UpdateNode(5 * time.Second)
}

var _ seatAdmin = (*consensus.Raft)(nil)

// raftServerView is one member of the Raft configuration.
type raftServerView struct {
	ID       string `json:"id"`
	Address  string `json:"address"`
	Suffrage string `json:"suffrage"`
}

// raftServers is GET /shoal/v1/raft: the Raft configuration as this
// agent's seat sees it (clients forward to a server).
func (a *Agent) raftServers(w http.ResponseWriter, r *http.Request) {
	admin, ok := a.raft().(seatAdmin)
	if !ok {
		writeError(w, a.log, fmt.Errorf("this agent has no Raft seat"))
		return
	}
	servers, err := admin.Servers()
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	out := struct {
		Leader string `json:"leader"`
		// Index is the last entry this agent's state applied.
		Index   uint64           `json:"index"`
		Servers []raftServerView `json:"servers"`
	}{Leader: a.leaderName(), Index: a.fsm().Index(), Servers: []raftServerView{}}
	for _, s := range servers {
		out.Servers = append(out.Servers, raftServerView{ID: s.ID, Address: s.Address, Suffrage: s.Suffrage()})
	}
	writeJSON(w, http.StatusOK, out)
}
