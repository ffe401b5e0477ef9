package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
)

// The leader promotes a client while that client's API serves reads,
// writes, metrics and readiness, and its loops run: under -race this
// shows the Raft role is published safely (agent/raft_role.go).
func TestPromotionWhileRequestsAreServed(t *testing.T) {
	server := runAgent(t, "promo-server", func(c *Config) { c.BootstrapExpect = 1; c.Servers = 2 })
	client := runAgent(t, "promo-client", func(c *Config) {
		c.Servers = 2
		c.Join = []string{hostPort("127.0.0.1", server.GossipPort)}
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", client.APIPort)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var served atomic.Int64
	hammer := func(method, path string, body func(i int) string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				b := ""
				if body != nil {
					b = body(i)
				}
				if code, _, err := call(http.DefaultClient, method, base+path, "", b); err == nil && code < 500 {
					served.Add(1)
				}
			}
		}()
	}
	for _, p := range []string{"/api/v1/pods", "/api/v1/nodes", "/readyz", "/metrics", "/shoal/v1/cluster", "/shoal/v1/raft", "/api/v1/events"} {
		hammer("GET", p, nil)
	}
	hammer("POST", "/api/v1/namespaces/default/pods", func(i int) string { return fmt.Sprintf(podYAML, fmt.Sprintf("p%d", i), "1Mi") })
	t.Cleanup(func() { cancel(); wg.Wait() })

	eventually(t, "the client promoted to a voter", func() bool {
		var v clusterView
		if getJSON(base+"/shoal/v1/cluster", &v) != nil || !v.Server {
			return false
		}
		var rv struct {
			Servers []raftServerView `json:"servers"`
		}
		if getJSON(base+"/shoal/v1/raft", &rv) != nil {
			return false
		}
		voters := 0
		for _, s := range rv.Servers {
			if s.Suffrage == "Voter" {
				voters++
			}
		}
		return voters == 2
	})
	// Keep serving for a while after the promotion, from the new seat.
	after := served.Load()
	eventually(t, "requests served after the promotion", func() bool { return served.Load() > after+200 })
	cancel()
	wg.Wait()

	var pods struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := getJSON(base+"/api/v1/pods", &pods); err != nil || len(pods.Items) == 0 {
		t.Fatalf("the promoted client lists %d pods (%v); writes made through it went missing", len(pods.Items), err)
	}
}
