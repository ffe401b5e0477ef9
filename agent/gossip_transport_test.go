package agent

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// A packet reaches memberlist in a buffer of its own size (not a 64 KiB
// one per packet), intact, with its sender, and later reads do not
// overwrite it.
func TestSimTransportHandsOverPacketsOfTheirOwnSize(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tr, err := newCopyingTransport("127.0.0.1", 0, log)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Shutdown()
	ip, port, err := tr.FinalAdvertiseAddr("", 0)
	if err != nil || !ip.Equal(net.IPv4(127, 0, 0, 1)) || port == 0 {
		t.Fatalf("advertise %v:%d, %v", ip, port, err)
	}
	from, err := newCopyingTransport("127.0.0.1", 0, log)
	if err != nil {
		t.Fatal(err)
	}
	defer from.Shutdown()
	to := hostPort("127.0.0.1", port)
	first, second := bytes.Repeat([]byte{1}, 100), bytes.Repeat([]byte{2}, 700)
	for _, b := range [][]byte{first, second} {
		if _, err := from.WriteTo(b, to); err != nil {
			t.Fatal(err)
		}
	}
	var got []*memberlist.Packet
	for len(got) < 2 {
		select {
		case p := <-tr.PacketCh():
			got = append(got, p)
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of 2 packets arrived", len(got))
		}
	}
	for i, want := range [][]byte{first, second} {
		p := got[i]
		if !bytes.Equal(p.Buf, want) {
			t.Errorf("packet %d: %d bytes of %v..., want %d of %v", i, len(p.Buf), p.Buf[:1], len(want), want[0])
		}
		if cap(p.Buf) > len(want)+64 { // append may round up to a size class
			t.Errorf("packet %d of %d bytes came in a buffer of %d", i, len(want), cap(p.Buf))
		}
		if p.From.String() != hostPort("127.0.0.1", portOf(t, from)) || p.Timestamp.IsZero() {
			t.Errorf("packet %d from %v at %v", i, p.From, p.Timestamp)
		}
	}
	if _, err := from.WriteTo([]byte{1}, "not-an-address"); err == nil {
		t.Error("a send to an unparsable address succeeded")
	}
}

func portOf(t *testing.T, tr *copyingTransport) int {
	_, p, err := tr.FinalAdvertiseAddr("", 0)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Two memberlists over it meet (UDP probes and the TCP push-pull of a
// join), see each other alive, and the one that shuts down without a
// goodbye is found failed by the other's probes.
func TestSimTransportCarriesGossip(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	start := func(name string) *memberlist.Memberlist {
		mc := memberlist.DefaultLANConfig()
		mc.Name, mc.BindAddr, mc.BindPort = name, "127.0.0.1", 0
		mc.AdvertiseAddr = "127.0.0.1"
		mc.LogOutput = io.Discard
		mc.ProbeInterval, mc.ProbeTimeout, mc.SuspicionMult = 100*time.Millisecond, 50*time.Millisecond, 1
		if err := copyingTransportFor(mc, log); err != nil {
			t.Fatal(err)
		}
		l, err := memberlist.Create(mc)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	a, b := start("a"), start("b")
	defer a.Shutdown()
	if _, err := b.Join([]string{a.LocalNode().Address()}); err != nil {
		t.Fatal(err)
	}
	waitMembers := func(l *memberlist.Memberlist, n int) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); l.NumMembers() != n; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s holds %d members alive, want %d", l.LocalNode().Name, l.NumMembers(), n)
			}
		}
	}
	waitMembers(a, 2)
	waitMembers(b, 2)
	if _, err := a.Ping("b", &net.UDPAddr{IP: b.LocalNode().Addr, Port: int(b.LocalNode().Port)}); err != nil {
		t.Fatalf("ping over the transport: %v", err)
	}
	b.Shutdown()
	waitMembers(a, 1)
}
