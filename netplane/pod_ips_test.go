package netplane

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
)

// Seed 2 of `shoal lab chaos` saw two pod namespaces on one node holding
// the same IP during a rolling restart: the fleet had freed the IP of a
// pod whose namespace the node still held, and a new pod on the node was
// wired with it. A node must refuse the second holder, whichever code
// path asks, also when the first was wired by an earlier agent.
func TestSetupPodRefusesAnIPAnotherPodHolds(t *testing.T) {
	n := newTwoNodes(t)
	ctx := t.Context()
	setupPod(t, n.a, "old", "10.244.1.5")

	_, err := n.a.SetupPod(ctx, "new", net.ParseIP("10.244.1.5"))
	if !errors.Is(err, ErrIPHeld) || !strings.Contains(err.Error(), "old") || !strings.Contains(err.Error(), "10.244.1.5") {
		t.Fatalf("second pod with the same IP: err = %v, want %v naming the IP and pod old", err, ErrIPHeld)
	}
	assertOnlyHolder(t, n.a, "10.244.1.5", "old")

	// An agent restarted on the node: a new Plane, which has wired
	// nothing itself, reads who holds what from the namespaces.
	restarted := newPlane(t, n.tag+"-a-", n.a.node)
	if _, err := restarted.SetupPod(ctx, "new", net.ParseIP("10.244.1.5")); !errors.Is(err, ErrIPHeld) {
		t.Fatalf("restarted agent wiring a second pod with a held IP: err = %v, want %v", err, ErrIPHeld)
	}
	assertOnlyHolder(t, restarted, "10.244.1.5", "old")

	// Once the old namespace is gone the IP is free for the new pod.
	if err := restarted.TeardownPod(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	path := setupPod(t, restarted, "new", "10.244.1.5")
	assertPodWired(t, n.ha, openNs(t, path), restarted.HostIfName("new"), "10.244.1.5")
	// Wiring the holder again is converging it, not a second holder.
	if _, err := restarted.SetupPod(ctx, "new", net.ParseIP("10.244.1.5")); err != nil {
		t.Fatalf("setup of the pod that holds the IP: %v", err)
	}
}

// A pod moved to another IP frees its old one, and a pod torn down frees
// its own: the Plane's record follows what it did.
func TestSetupPodFreesTheIPsAPodNoLongerHolds(t *testing.T) {
	n := newTwoNodes(t)
	ctx := t.Context()
	setupPod(t, n.a, "web", "10.244.1.5")
	if _, err := n.a.SetupPod(ctx, "web", net.ParseIP("10.244.1.6")); err != nil {
		t.Fatal(err)
	}
	setupPod(t, n.a, "db", "10.244.1.5")
	if _, err := n.a.SetupPod(ctx, "cache", net.ParseIP("10.244.1.6")); !errors.Is(err, ErrIPHeld) {
		t.Fatalf("pod cache on web's new IP: err = %v, want %v", err, ErrIPHeld)
	}
	if err := n.a.TeardownPod(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	setupPod(t, n.a, "cache", "10.244.1.6")
	assertOnlyHolder(t, n.a, "10.244.1.5", "db")
	assertOnlyHolder(t, n.a, "10.244.1.6", "cache")
}

// assertOnlyHolder checks, in the namespaces themselves, that exactly
// podID's holds ip among p's pods.
func assertOnlyHolder(t *testing.T, p *Plane, ip, podID string) {
	t.Helper()
	ids, err := p.ListPods(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var holders []string
	for _, id := range ids {
		ips, err := netnsIPv4(p.NetnsPath(id))
		if err != nil {
			t.Fatal(err)
		}
		for _, got := range ips {
			if got == ip {
				holders = append(holders, id)
			}
		}
	}
	if len(holders) != 1 || holders[0] != podID {
		t.Fatalf("pod networks holding %s: %v (of %v), want only %s", ip, holders, ids, podID)
	}
}
