package agent

import (
	"io"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/shoal-dev/shoal/agent/liveness"
)

func zoneConfig() Config {
	cfg := DefaultConfig()
	cfg.Name = "n1"
	return cfg
}

// The zone is reported as the well-known label beside the --labels given,
// which stay as they were.
func TestZoneIsReportedAsTheTopologyLabel(t *testing.T) {
	cfg := zoneConfig()
	cfg.Labels = map[string]string{"example.com/disk": "ssd"}
	given := maps.Clone(cfg.Labels)
	cfg.Zone = "shop-12"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	got := cfg.nodeLabels()
	want := map[string]string{"example.com/disk": "ssd", ZoneLabel: "shop-12"}
	if !maps.Equal(got, want) {
		t.Errorf("node labels %v, want %v", got, want)
	}
	if !maps.Equal(cfg.Labels, given) {
		t.Errorf("--labels changed to %v", cfg.Labels)
	}
	cfg.Zone = ""
	if got := cfg.nodeLabels(); !maps.Equal(got, given) {
		t.Errorf("no zone: node labels %v, want %v", got, given)
	}
	// The zone fits gossip's metadata with the rest of a node's.
	cfg.Zone = strings.Repeat("z", 63)
	cfg.BindAddr, cfg.GossipPort = "127.0.0.1", freePort(t)
	m, err := newMembership(cfg, nodeMeta{V: 1, API: "127.0.0.1:1", Labels: cfg.nodeLabels()}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("a 63-character zone: %v", err)
	}
	m.leave(time.Second)
}

func TestBadZonesAreNamed(t *testing.T) {
	cases := map[string]struct {
		edit func(*Config)
		want string
	}{
		"zone not a label value":      {func(c *Config) { c.Zone = "shop 12" }, `zone "shop 12": not a label value`},
		"seat zone not a label value": {func(c *Config) { c.SeatZone = "-central" }, `seat-zone "-central": not a label value`},
		"zone given twice": {func(c *Config) {
			c.Zone, c.Labels = "a", map[string]string{ZoneLabel: "b"}
		}, `zone "a": labels give topology.kubernetes.io/zone=b`},
	}
	for name, tc := range cases {
		cfg := zoneConfig()
		tc.edit(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate() = %v, want %q", name, err, tc.want)
		}
	}
	cfg := zoneConfig()
	cfg.Zone, cfg.Labels = "a", map[string]string{ZoneLabel: "a"}
	if err := cfg.Validate(); err != nil {
		t.Errorf("the same zone in both: %v", err)
	}
}

// --gossip-profile wan takes the WAN timings and their longer grace; a
// grace too short for them is refused with the shortest that would do,
// and an unknown profile is named.
func TestGossipProfile(t *testing.T) {
	cfg := zoneConfig()
	if l := cfg.liveness(); l != liveness.Default() {
		t.Errorf("no profile: %+v, want today's default", l)
	}
	cfg.GossipProfile = "wan"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if l := cfg.liveness(); l.Gossip != liveness.WANGossip() || l.NodeGrace != liveness.WANNodeGrace {
		t.Errorf("wan: %+v", l)
	}
	cfg.NodeGrace = 2 * time.Second
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), `node-grace 2s: too short for gossip-profile "wan"`) || !strings.Contains(err.Error(), "give at least 8.001s") {
		t.Errorf("wan with a 2s grace: Validate() = %v", err)
	}
	cfg.GossipProfile, cfg.NodeGrace = "satellite", 0
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), `gossip-profile: gossip profile "satellite"`) {
		t.Errorf("unknown profile: Validate() = %v", err)
	}
}

// Two agents on the WAN profile form a fleet through real memberlist:
// its timings are ones memberlist accepts and agents still meet.
func TestWANProfileAgentsMeet(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var seen []memberlist.Config
	start := func(name string) (*membership, Config) {
		cfg := DefaultConfig()
		cfg.Name, cfg.BindAddr, cfg.GossipPort, cfg.GossipProfile = name, "127.0.0.1", freePort(t), "wan"
		cfg.tuneGossip = func(mc *memberlist.Config) error { seen = append(seen, *mc); return nil }
		m, err := newMembership(cfg, nodeMeta{V: 1, API: "127.0.0.1:1"}, log)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.leave(time.Second) })
		return m, cfg
	}
	a, acfg := start("a")
	b, _ := start("b")
	if err := b.join([]string{hostPort("127.0.0.1", acfg.GossipPort)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "both agents see each other", func() bool { return len(a.members()) == 2 && len(b.members()) == 2 })
	wan := liveness.WANGossip()
	if len(seen) != 2 {
		t.Fatalf("memberlist configured %d times, want 2", len(seen))
	}
	for _, mc := range seen {
		if mc.ProbeInterval != wan.ProbeInterval || mc.ProbeTimeout != wan.ProbeTimeout || mc.SuspicionMult != wan.SuspicionMult {
			t.Errorf("memberlist given probe %v/%v suspicion %d, want the WAN's %+v", mc.ProbeInterval, mc.ProbeTimeout, mc.SuspicionMult, wan)
		}
	}
}

// syncBuffer is a log sink memberlist's goroutines write while the test
// reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
