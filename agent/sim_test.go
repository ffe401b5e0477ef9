package agent

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// startSim runs a sim fleet of n hollow nodes for the test and waits until
// every node is Ready in the API.
func startSim(t *testing.T, n int, first string) (*Sim, string) {
	t.Helper()
	s := startSimWith(t, n, first, func(*SimConfig) {})
	base := s.API(s.Nodes()[0])
	eventuallyWithin(t, time.Minute, fmt.Sprintf("%d nodes Ready", n), func() bool {
		return len(readyNodes(base)) == n
	})
	return s, base
}

// startSimWith starts a sim fleet of n hollow nodes from the address
// first, with free ports and the test's own directory, after set has
// changed its config; the test's cleanup stops it.
func startSimWith(t *testing.T, n int, first string, set func(*SimConfig)) *Sim {
	t.Helper()
	cfg := DefaultSimConfig(n, t.TempDir())
	cfg.FirstAddr = netip.MustParseAddr(first)
	cfg.APIPort, cfg.RaftPort, cfg.GossipPort = freePort(t), freePort(t), freePort(t)
	set(&cfg)
	ctx, cancel := context.WithCancel(context.Background())
	s, err := StartSim(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop the sim: %v", err)
		}
		cancel()
	})
	return s
}

func readyNodes(base string) map[string]bool {
	var l api.NodeList
	if getJSON(base+"/api/v1/nodes", &l) != nil {
		return nil
	}
	out := map[string]bool{}
	for _, n := range l.Items {
		for _, c := range n.Status.Conditions {
			if c.Type == "Ready" && c.Status == api.ConditionTrue {
				out[n.ObjectMeta.Name] = true
			}
		}
	}
	return out
}

func eventuallyWithin(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out after %v waiting for %s", d, what)
}

// Ten hollow agents form a fleet with five Raft seats: a bare pod and an
// RC's replicas are bound, run in the hollow runtimes and are reported
// Running through the real status path; a crashed node is found by gossip,
// marked NotReady, and its replica runs again on a live node.
func TestSimFleetRunsPodsAndReplacesACrashedNodesReplica(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ten agents")
	}
	s, base := startSim(t, 10, "127.78.0.1")
	seats := 0
	for _, n := range s.Nodes() {
		if n.Seat {
			seats++
		}
	}
	if seats != 5 {
		t.Fatalf("%d seats, want 5", seats)
	}
	// Any node's API takes the writes: a client forwards them.
	client := s.API(s.Nodes()[9])
	if code, st := send(t, http.MethodPost, client+"/api/v1/namespaces/default/pods", fmt.Sprintf(podYAML, "bare", "10Mi")); code != http.StatusCreated {
		t.Fatalf("create pod: HTTP %d %+v", code, st)
	}
	if code, st := send(t, http.MethodPost, client+"/api/v1/namespaces/default/replicationcontrollers", rcYAML); code != http.StatusCreated {
		t.Fatalf("create rc: HTTP %d %+v", code, st)
	}
	running := func(p *api.Pod) bool {
		return p.Spec.NodeName != "" && p.Status.Phase == api.PodRunning && len(p.Status.ContainerStatuses) == 1 &&
			p.Status.ContainerStatuses[0].State.Running != nil && p.Status.ContainerStatuses[0].Ready
	}
	eventuallyWithin(t, time.Minute, "the bare pod and 3 replicas Running", func() bool {
		var l api.PodList
		if getJSON(base+"/api/v1/namespaces/default/pods", &l) != nil || len(l.Items) != 4 {
			return false
		}
		for i := range l.Items {
			if !running(&l.Items[i]) {
				return false
			}
		}
		return true
	})
	byName := map[string]*SimNode{}
	for _, n := range s.Nodes() {
		byName[n.Name] = n
	}
	var victim *SimNode
	var lost string
	for _, p := range webPods(t, base) {
		n := byName[p.Spec.NodeName]
		if n == nil {
			t.Fatalf("pod %s bound to %q, not a sim node", p.ObjectMeta.Name, p.Spec.NodeName)
		}
		if n.Runtime.Len() == 0 {
			t.Fatalf("pod %s reported Running by %s, whose runtime holds nothing", p.ObjectMeta.Name, n.Name)
		}
		// A client if one runs a replica, else a seat (four of five keep
		// the quorum); never the first node, whose API the test reads.
		if n != s.Nodes()[0] && (victim == nil || victim.Seat && !n.Seat) {
			victim, lost = n, p.ObjectMeta.Name
		}
	}
	if victim == nil {
		t.Fatal("every replica on the first node: placement spreads one per node per pass")
	}
	if err := victim.Kill(); err != nil {
		t.Fatalf("kill %s: %v", victim.Name, err)
	}
	eventuallyWithin(t, time.Minute, victim.Name+" NotReady and its replica replaced", func() bool {
		if readyNodes(base)[victim.Name] {
			return false
		}
		// A crashed seat may have led: reads wait for the next leader.
		var l api.PodList
		if getJSON(base+"/api/v1/namespaces/default/pods?labelSelector=app%3Dweb", &l) != nil {
			return false
		}
		pods := l.Items
		live := 0
		for i := range pods {
			if pods[i].ObjectMeta.Name == lost {
				return false
			}
			if pods[i].Spec.NodeName != victim.Name && running(&pods[i]) {
				live++
			}
		}
		return live == 3
	})
}

// The clients of a sim started at once join through the seats in turn,
// one each (a memberlist join syncs with every address given), and the
// seats through the first. Clients started one after another join one
// node each that started at least simJoinSettled before them, spread over
// the whole fleet rather than the seats. A fleet above LargeSimNodes
// gossips with the large profile unless one is named, and its clients
// start 10 ms apart.
func TestSimSpreadsJoinsAndPicksTheLargeProfile(t *testing.T) {
	addrs := []string{"s1", "s2", "s3", "c4", "c5", "c6", "c7"}
	want := [][]string{nil, {"s1"}, {"s1"}, {"s1"}, {"s2"}, {"s3"}, {"s1"}}
	for i, got := range simJoins(addrs, 3, 0) {
		if fmt.Sprint(got) != fmt.Sprint(want[i]) {
			t.Errorf("node %d joins %v, want %v", i, got, want[i])
		}
	}
	var fleet []string
	for i := range 303 {
		fleet = append(fleet, fmt.Sprintf("n%d", i))
	}
	per := map[string]int{}
	for _, j := range simJoins(fleet, 3, 0)[3:] {
		per[j[0]]++
	}
	for _, s := range fleet[:3] {
		if per[s] != 100 {
			t.Errorf("seat %s takes %d of 300 clients' joins, want 100", s, per[s])
		}
	}
	const every = 10 * time.Millisecond
	settled := int(simJoinSettled / every)
	per = map[string]int{}
	for i, j := range simJoins(fleet, 3, every) {
		if i < 3 {
			continue
		}
		if len(j) != 1 {
			t.Fatalf("client %d joins %v: want one address", i, j)
		}
		var k int
		if _, err := fmt.Sscanf(j[0], "n%d", &k); err != nil {
			t.Fatal(err)
		}
		// It started (i-k) x every after the node it joins, or that one
		// is a seat, started with the first client.
		if k >= 3 && i-k < settled {
			t.Errorf("client %d joins n%d, started %v before it", i, k, time.Duration(i-k)*every)
		}
		per[j[0]]++
	}
	if len(per) < 100 {
		t.Errorf("300 staggered clients join through %d nodes: %v", len(per), per)
	}
	if got := DefaultSimConfig(LargeSimNodes+1, "").StartEvery; got != every {
		t.Errorf("a large sim starts its clients %v apart, want %v", got, every)
	}
	if got := DefaultSimConfig(1000, "").StartEvery; got != 50*time.Millisecond {
		t.Errorf("a 1,000-node sim starts its clients %v apart, want 50ms (the work per join grows with the fleet)", got)
	}
	if got := DefaultSimConfig(LargeSimNodes, "").StartEvery; got != 0 {
		t.Errorf("a sim of %d starts its clients %v apart, want at once", LargeSimNodes, got)
	}
	for _, c := range []struct {
		nodes   int
		profile string
		want    string
	}{{LargeSimNodes, "", ""}, {LargeSimNodes + 1, "", liveness.ProfileLarge}, {1000, liveness.ProfileLAN, liveness.ProfileLAN}, {3, liveness.ProfileWAN, liveness.ProfileWAN}} {
		if got := (SimConfig{Nodes: c.nodes, GossipProfile: c.profile}).gossipProfile(); got != c.want {
			t.Errorf("%d nodes, profile %q: the agents get %q, want %q", c.nodes, c.profile, got, c.want)
		}
	}
}

// A large sim's seats run Raft with longer timeouts than consensus's
// defaults, ones Raft accepts (the lease within the heartbeat timeout,
// the election no shorter than it), and with a lease inside the large
// profile's contact window, so a starved leader still steps down before
// its followers count as out of contact.
func TestSimRaftTimeoutsAreLongerAndAccepted(t *testing.T) {
	c := consensus.Config{ID: "h0001", DataDir: t.TempDir(), BindAddr: hostPort("127.0.0.1", freePort(t))}
	simRaftTimeouts(&c)
	if c.HeartbeatTimeout <= time.Second || c.ElectionTimeout <= time.Second {
		t.Errorf("sim raft timeouts %v/%v, want longer than the 1 s defaults", c.HeartbeatTimeout, c.ElectionTimeout)
	}
	if window := liveness.LargeNodeGrace / 4; c.LeaderLeaseTimeout >= window {
		t.Errorf("leader lease %v, not inside the large profile's contact window %v", c.LeaderLeaseTimeout, window)
	}
	r, err := consensus.OpenOnDisk(c, consensus.NewFSM())
	if err != nil {
		t.Fatalf("raft refused the sim's timeouts: %v", err)
	}
	if err := r.Shutdown(); err != nil {
		t.Fatal(err)
	}
}

// A sim whose clients start one after another forms all the same, and a
// stop before the last has started still stops every node.
func TestSimStaggeredStart(t *testing.T) {
	for _, stopEarly := range []bool{false, true} {
		cfg := DefaultSimConfig(4, t.TempDir())
		cfg.Seats, cfg.StartEvery = 1, 50*time.Millisecond
		if stopEarly {
			cfg.StartEvery = time.Hour
		}
		cfg.FirstAddr = netip.MustParseAddr("127.77.9.1")
		cfg.APIPort, cfg.RaftPort, cfg.GossipPort = freePort(t), freePort(t), freePort(t)
		ctx, cancel := context.WithCancel(context.Background())
		s, err := StartSim(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !stopEarly {
			base := s.API(s.Nodes()[0])
			eventuallyWithin(t, time.Minute, "4 staggered nodes Ready", func() bool { return len(readyNodes(base)) == 4 })
		}
		stopped := make(chan error, 1)
		go func() { stopped <- s.Stop() }()
		select {
		case err := <-stopped:
			if err != nil {
				t.Errorf("stop (early %v): %v", stopEarly, err)
			}
		case <-time.After(time.Minute):
			t.Fatalf("stop (early %v) did not return", stopEarly)
		}
		if err := s.Stop(); err != nil {
			t.Errorf("second stop: %v", err)
		}
		cancel()
	}
}

// The scale report's restore time reads a seat's state: a snapshot of a
// formed fleet is not empty and restores.
func TestSimRestoreTimeOfASeat(t *testing.T) {
	s, _ := startSim(t, 3, "127.77.8.1")
	mib, secs := restoreTime(t, s.Nodes()[0])
	if mib <= 0 || secs <= 0 {
		t.Fatalf("restore of the first seat's state: %v MiB in %v s", mib, secs)
	}
}
