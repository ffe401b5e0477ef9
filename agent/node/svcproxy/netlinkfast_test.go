package svcproxy

import (
	"math/bits"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestEndpointOnlyChangesGoOverNetlinkAsNftWouldWriteThem(t *testing.T) {
	n := newNode(t)
	client := n.pod(t, "client", clientIP)
	echoServer(t, n.pod(t, "srv1", srv1IP), srv1IP+":8080")
	echoServer(t, n.pod(t, "srv2", srv2IP), srv2IP+":8080")
	udpEchoServer(t, n.pod(t, "srv1u", "10.244.1.6"), "10.244.1.6:5353")
	p := n.proxy(t)
	ctx := t.Context()
	both := []Service{web(srv1IP, srv2IP), dnsSvc(0, "10.244.1.6")}
	both[1].ClusterIP = both[1].ClusterIP.Next()
	if err := p.Sync(ctx, both); err != nil {
		t.Fatal(err)
	}
	// The same chains as nft wrote them, for the comparison below.
	wantChain := func(t *testing.T) string {
		return run(t, "ip", "netns", "exec", n.name, "nft", "list", "chain", "ip", DefaultTable, serviceChain(&both[0], both[0].Ports[0]))
	}
	viaNft := wantChain(t)

	one := []Service{web(srv2IP), both[1]}
	if err := p.Sync(ctx, one); err != nil {
		t.Fatal(err)
	}
	if p.fastSyncs != 1 {
		t.Fatalf("an endpoint-only change did not go over netlink (fast syncs %d)", p.fastSyncs)
	}
	got := wantChain(t)
	if !strings.Contains(got, "meta l4proto tcp dnat ip to numgen random mod 1 map { 0 : "+srv2IP+" . 8080 }") {
		t.Fatalf("chain after the netlink update:\n%s", got)
	}
	if seen := servedBy(t, client, vip+":80", clientIP, 10); seen[srv2IP] != 10 {
		t.Fatalf("answers per server = %v, want all from %s", seen, srv2IP)
	}
	// Back to both endpoints over netlink: nft lists exactly what its own
	// transaction had written.
	if err := p.Sync(ctx, both); err != nil {
		t.Fatal(err)
	}
	if p.fastSyncs != 2 {
		t.Fatalf("fast syncs %d, want 2", p.fastSyncs)
	}
	// 40 tries miss one of two equal endpoints with probability 2^-39: the
	// kernel matches numgen's host-order numbers against the map's keys.
	if seen := servedBy(t, client, vip+":80", clientIP, 40); seen[srv1IP] == 0 || seen[srv2IP] == 0 {
		t.Fatalf("answers per server = %v, want both", seen)
	}
	if got := swapKeys(wantChain(t)); got != viaNft {
		t.Fatalf("after the netlink update nft lists (keys swapped back)\n%s\nwhere its own transaction gave\n%s", got, viaNft)
	}
	// A change beyond endpoints (the last one gone: the port rejects) goes
	// through nft.
	if err := p.Sync(ctx, []Service{web(), both[1]}); err != nil {
		t.Fatal(err)
	}
	if p.fastSyncs != 2 {
		t.Fatalf("a change of the no-endpoint map went over netlink")
	}
	// The table nft reads back is whole: a full listing parses.
	run(t, "ip", "netns", "exec", n.name, "nft", "list", "table", "ip", DefaultTable)
}

// swapKeys undoes, in an nft listing of numgen maps, the one difference a
// netlink-written map has: google/nftables v0.3.0 marks an anonymous
// set's keys big-endian in the set's metadata, which only nft's printing
// reads, so nft prints key 1 as 16777216.
func swapKeys(listing string) string {
	re := regexp.MustCompile(`(\{ |, )(\d+) : `)
	return re.ReplaceAllStringFunc(listing, func(m string) string {
		sub := re.FindStringSubmatch(m)
		k, err := strconv.ParseUint(sub[2], 10, 32)
		if err != nil {
			return m
		}
		return sub[1] + strconv.FormatUint(uint64(bits.ReverseBytes32(uint32(k))), 10) + " : "
	})
}
