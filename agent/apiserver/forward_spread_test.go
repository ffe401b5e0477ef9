package apiserver

import (
	"fmt"
	"log/slog"
	"testing"
)

type staticMembers []Member

func (s staticMembers) Members() []Member { return s }

func spreadFleet(dead string) staticMembers {
	var ms staticMembers
	for i := 1; i <= 5; i++ {
		name := fmt.Sprintf("h%04d", i)
		ms = append(ms, Member{Name: name, API: name + ":17080", Server: true, Alive: name != dead})
	}
	// A live client and a dead server's client are never chosen.
	return append(ms, Member{Name: "h0006", API: "h0006:17080", Alive: true})
}

func clientOf(name string, ms staticMembers) *Server {
	return New(Config{Name: name, Log: slog.New(slog.DiscardHandler)}, Deps{Members: ms})
}

// A fleet's clients forward to their servers evenly, each always to the
// same one; when a server dies only its clients move, and with no live
// server there is nowhere to forward.
func TestClientsSpreadTheirForwardsOverTheServers(t *testing.T) {
	const clients = 1000
	fleet := spreadFleet("")
	home := map[string]string{}
	per := map[string]int{}
	for i := 0; i < clients; i++ {
		name := fmt.Sprintf("h%04d", 100+i)
		got := clientOf(name, fleet).anyServerAPI()
		if again := clientOf(name, fleet).anyServerAPI(); again != got {
			t.Fatalf("%s forwards to %s, then to %s", name, got, again)
		}
		home[name] = got
		per[got]++
	}
	if len(per) != 5 {
		t.Fatalf("1,000 clients forward to %d of the 5 servers: %v", len(per), per)
	}
	for s, n := range per {
		// An even share is 200; rendezvous hashing of distinct names
		// stays well within half and twice that.
		if n < clients/5/2 || n > clients/5*2 {
			t.Errorf("server %s serves %d of %d clients: %v", s, n, clients, per)
		}
	}

	gone := "h0003:17080"
	after := spreadFleet("h0003")
	for name, was := range home {
		now := clientOf(name, after).anyServerAPI()
		switch {
		case now == gone || now == "" || now == "h0006:17080":
			t.Fatalf("%s forwards to %q with h0003 dead", name, now)
		case was != gone && now != was:
			t.Fatalf("%s moved from %s to %s although its server lives", name, was, now)
		}
	}

	none := staticMembers{{Name: "h0001", API: "h0001:17080", Server: true}, {Name: "h0006", API: "h0006:17080", Alive: true}}
	if got := clientOf("h0100", none).anyServerAPI(); got != "" {
		t.Fatalf("no live server, yet forwards to %q", got)
	}
}
