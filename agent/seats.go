package agent

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/shoal-dev/shoal/agent/controllers"
)

// seatState serialises opening a Raft seat on a promoted client.
type seatState struct {
	mu sync.Mutex
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

// seatAnswer is the answer of POST /shoal/v1/seat.
type seatAnswer struct {
	Raft string `json:"raft"`
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
	if err := a.members.setMeta(self, 5*time.Second); err != nil {
		a.log.Warn("tell the fleet about the new seat", "err", err)
	}
	// The seat lives as long as the agent, not as this request.
	a.spawn("leader", a.leaderLoop)
	a.log.Info("opened a Raft seat at the leader's request", "raft", raftAddr)
	writeJSON(w, http.StatusOK, seatAnswer{Raft: raftAddr})
}

// raftServerView is one member of the Raft configuration.
type raftServerView struct {
	ID       string `json:"id"`
	Address  string `json:"address"`
	Suffrage string `json:"suffrage"`
}

// raftServers is GET /shoal/v1/raft: the Raft configuration as this
// agent's seat sees it (clients forward to a server).
func (a *Agent) raftServers(w http.ResponseWriter, r *http.Request) {
	admin, ok := a.raft().(controllers.SeatAdmin)
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
