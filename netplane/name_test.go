package netplane

import (
	"net"
	"strings"
	"testing"
)

func TestHostIfNameFitsIFNAMSIZAndIsStable(t *testing.T) {
	p := &Plane{prefix: "shoal-lab1-n1-"}
	q := &Plane{prefix: "shoal-lab1-n2-"}
	id := strings.Repeat("very-long-pod-id-", 10)
	name := p.HostIfName(id)
	if len(name) > 15 || !strings.HasPrefix(name, hostIfPrefix) {
		t.Fatalf("HostIfName = %q: want <=15 chars starting %q", name, hostIfPrefix)
	}
	if name != p.HostIfName(id) {
		t.Fatal("HostIfName is not stable for the same pod")
	}
	if name == p.HostIfName(id+"x") || name == q.HostIfName(id) {
		t.Fatal("HostIfName collides across pods or prefixes")
	}
}

func TestSetupPodRejectsBadInputBeforeTouchingAnything(t *testing.T) {
	p := &Plane{prefix: "npt-unit-"}
	for _, tc := range []struct {
		name, pod string
		ip        net.IP
		want      string
	}{
		{"slash in id", "a/b", net.ParseIP("10.244.1.5"), "must not contain"},
		{"dot-dot id", "..", net.ParseIP("10.244.1.5"), "non-empty file name"},
		{"empty id", "", net.ParseIP("10.244.1.5"), "non-empty file name"},
		{"ipv6", "web", net.ParseIP("fd00::5"), errNotIPv4.Error()},
		{"nil ip", "web", nil, errNotIPv4.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.SetupPod(t.Context(), tc.pod, tc.ip)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
	if err := p.TeardownPod(t.Context(), "../x"); err == nil {
		t.Fatal("TeardownPod accepted a pod id with a slash")
	}
}

func TestNewValidatesConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"slash in prefix", Config{NetnsPrefix: "a/"}},
		{"tiny mtu", Config{MTU: 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if p, err := New(tc.cfg, nil); err == nil {
				_ = p.Close()
				t.Fatalf("New(%+v) accepted a bad config", tc.cfg)
			}
		})
	}
	p, err := New(Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.prefix != DefaultNetnsPrefix || p.mtu != DefaultMTU {
		t.Fatalf("defaults: prefix %q mtu %d", p.prefix, p.mtu)
	}
}
