package consensus

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sort"
	"testing"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/placement"
)

// The indexes follow the state through long random command sequences (the
// fuzzer's generator fed from a seeded source, checkIndexes after every
// entry via checkInvariants) and through a snapshot and restore.
func TestIndexesFollowRandomCommands(t *testing.T) {
	for seed := range uint64(12) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 0x5ca1ab1e))
			data := make([]byte, 1200)
			for i := range data {
				data[i] = byte(rng.Uint32())
			}
			g := &cmdGen{data: data}
			entries := runFuzzLog(t, g)
			checkReplay(t, entries, g.final)
		})
	}
}

// A restored machine answers from indexes rebuilt from the snapshot, and
// they keep following the commands applied after it.
func TestIndexesAfterRestore(t *testing.T) {
	f := fleetFSM(t, 20, 3)
	f.NodeInfos()
	restored := snapshotRestored(t, f)
	h := &harness{t: t, f: restored, idx: restored.Index()}
	check := func(when string) {
		t.Helper()
		restored.NodeInfos()
		restored.mu.RLock()
		defer restored.mu.RUnlock()
		if err := checkIndexes(restored.st); err != nil {
			t.Fatalf("%s: %v", when, err)
		}
	}
	check("after restore")
	h.must(UpdatePodStatus{Namespace: "default", Name: "p-00002-0", UID: "uid-p-00002-0", Node: "node-00002",
		Status: api.PodStatus{Phase: api.PodFailed}, Time: t0})
	h.must(DeletePod{Namespace: "default", Name: "p-00003-1"})
	h.must(create("late", "2Gi"))
	ip, err := restored.FreePodIP("node-00003")
	if err != nil {
		t.Fatal(err)
	}
	// The address the deleted pod held is the lowest free one again.
	if want := "10.0.3.3"; ip.String() != want {
		t.Fatalf("FreePodIP(node-00003) = %s, want %s (released by the delete)", ip, want)
	}
	h.must(BindPod{Namespace: "default", Name: "late", UID: "uid-late", Node: "node-00003", PodIP: ip.String(), Time: t0})
	reg := node("node-new", "8Gi", "172.31.0.1")
	reg.ClusterCIDR = "10.0.0.0/8"
	res, err := h.do(reg)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Node.Spec.PodCIDR; got != "10.0.20.0/24" {
		t.Fatalf("new node's block %s, want 10.0.20.0/24 (the first after the 20 restored)", got)
	}
	check("after commands on the restored machine")
}

// checkIndexes compares the indexes with a count made from scratch over
// the stored nodes and pods, by code that shares nothing with index.go.
func checkIndexes(st *state) error {
	want := scratchNodeInfos(st)
	for _, w := range want {
		got := st.nodeInfo(w.Node.ObjectMeta.Name)
		if err := sameInfo(got, w); err != nil {
			return fmt.Errorf("nodeInfo: %w", err)
		}
	}
	for name, u := range st.ix.usage {
		if _, ok := st.Nodes[name]; ok {
			continue
		}
		// Pods may be bound to a node that is not stored (a snapshot
		// written elsewhere): their sums must still be right.
		if u.pods != scratchUsage(st, name).Pods {
			return fmt.Errorf("usage of unstored node %s: %d pods, scratch count %d", name, u.pods, scratchUsage(st, name).Pods)
		}
	}
	if st.ix.infosValid {
		if len(st.ix.infos) != len(want) {
			return fmt.Errorf("cached NodeInfos has %d nodes, %d stored", len(st.ix.infos), len(want))
		}
		for i := range want {
			if st.ix.infos[i].Node != st.Nodes[want[i].Node.ObjectMeta.Name] {
				return fmt.Errorf("cached NodeInfos[%d] is %s, not the stored node %s", i, st.ix.infos[i].Node.ObjectMeta.Name, want[i].Node.ObjectMeta.Name)
			}
			if err := sameInfo(st.ix.infos[i], want[i]); err != nil {
				return fmt.Errorf("cached NodeInfos: %w", err)
			}
		}
	}
	ips := map[netip.Addr][]string{}
	for key, p := range st.Pods {
		if ip, err := netip.ParseAddr(p.Status.PodIP); err == nil && !p.Spec.HostNetwork { // the node's IP: not indexed
			ips[ip] = append(ips[ip], key)
		}
	}
	for _, keys := range ips {
		sort.Strings(keys)
	}
	if len(ips) != len(st.ix.ips) {
		return fmt.Errorf("IP index holds %d addresses, the pods %d", len(st.ix.ips), len(ips))
	}
	for ip, keys := range ips {
		if !slices.Equal(keys, st.ix.ips[ip]) {
			return fmt.Errorf("IP %s: index says held by %v, the pods say %v", ip, st.ix.ips[ip], keys)
		}
	}
	for _, q := range []blockQuery{
		{netip.MustParsePrefix(DefaultClusterCIDR), DefaultBlockBits},
		{netip.MustParsePrefix("10.244.0.0/16"), 28},
		{netip.MustParsePrefix("10.0.0.0/8"), 16},
	} {
		// allocateBlock only moves its hint, which a scan agrees with.
		got, gotErr := st.allocateBlock(q.cluster.String(), q.bits)
		want, wantErr := scanBlock(st, q.cluster, q.bits)
		if got != want || (gotErr == nil) != (wantErr == nil) {
			return fmt.Errorf("allocateBlock(%s, /%d) = %s, %v; a scan of the nodes gives %s, %v", q.cluster, q.bits, got, gotErr, want, wantErr)
		}
	}
	return nil
}

func sameInfo(got, want placement.NodeInfo) error {
	name := want.Node.ObjectMeta.Name
	if got.Node != want.Node {
		return fmt.Errorf("%s: not the stored node", name)
	}
	if got.Pods != want.Pods || !sameRequests(got.Requested, want.Requested) {
		return fmt.Errorf("%s: %d pods requesting %v; scratch count %d pods requesting %v", name, got.Pods, got.Requested, want.Pods, want.Requested)
	}
	if len(got.HostPorts) != len(want.HostPorts) || !maps.Equal(got.HostPorts, want.HostPorts) {
		return fmt.Errorf("%s: host ports %v; scratch count %v", name, got.HostPorts, want.HostPorts)
	}
	return nil
}

// sameRequests compares two lists, a missing resource counting as zero.
func sameRequests(a, b api.ResourceList) bool {
	for k, q := range a {
		o := b[k]
		if q.Cmp(o) != 0 {
			return false
		}
	}
	for k, q := range b {
		o := a[k]
		if q.Cmp(o) != 0 {
			return false
		}
	}
	return true
}

// scratchNodeInfos is NodeInfos as it was before the indexes: every stored
// node by name, summing the pods bound to it that have not finished.
func scratchNodeInfos(st *state) []placement.NodeInfo {
	out := make([]placement.NodeInfo, 0, len(st.Nodes))
	for _, name := range st.sortedNodeNames() {
		out = append(out, scratchUsage(st, name))
	}
	return out
}

func scratchUsage(st *state, name string) placement.NodeInfo {
	info := placement.NodeInfo{Node: st.Nodes[name], Requested: api.ResourceList{}}
	for _, p := range st.Pods {
		if p.Spec.NodeName != name || !Bound(p) || Terminal(p) {
			continue
		}
		for res, q := range api.PodRequests(p) {
			sum := info.Requested[res]
			sum.Add(q)
			info.Requested[res] = sum
		}
		info.Pods++
		for _, port := range api.HostPorts(p) {
			if info.HostPorts == nil {
				info.HostPorts = map[string]int{}
			}
			info.HostPorts[port]++
		}
	}
	return info
}

// scanBlock is allocateBlock as it was before the block index: the first
// block that overlaps no node's podCIDR, looking at every node each time.
func scanBlock(st *state, cluster netip.Prefix, bits int) (netip.Prefix, error) {
	var used []netip.Prefix
	for _, n := range st.Nodes {
		if p, err := netip.ParsePrefix(n.Spec.PodCIDR); err == nil {
			used = append(used, p)
		}
	}
	count := uint64(1) << uint(bits-cluster.Bits())
	size := uint64(1) << uint(32-bits)
	base := addrToUint(cluster.Addr())
	for i := uint64(0); i < count; i++ {
		block := netip.PrefixFrom(uintToAddr(base+i*size), bits)
		free := true
		for _, u := range used {
			if u.Overlaps(block) {
				free = false
				break
			}
		}
		if free {
			return block, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("no free block")
}

// AppendNodeInfos into a reused slice gives what NodeInfos gives, and a
// list handed out earlier does not change when later commands apply.
func TestAppendNodeInfosReusesAndHandsOutStableLists(t *testing.T) {
	f := fleetFSM(t, 5, 1)
	h := &harness{t: t, f: f, idx: f.Index()}
	before := f.NodeInfos()
	mem := api.QuantityOf(before[2].Requested, api.ResourceMemory)
	buf := make([]placement.NodeInfo, 0, 16)
	got := f.AppendNodeInfos(buf[:0])
	if &got[0] != &buf[:1][0] {
		t.Fatalf("AppendNodeInfos did not reuse the slice it was given")
	}
	for i := range before {
		if err := sameInfo(got[i], before[i]); err != nil {
			t.Fatal(err)
		}
	}
	h.must(create("more", "1Gi"), BindPod{Namespace: "default", Name: "more", UID: "uid-more", Node: "node-00002", PodIP: "10.0.2.9", Time: t0})
	if q := api.QuantityOf(before[2].Requested, api.ResourceMemory); before[2].Pods != 1 || q.Cmp(mem) != 0 {
		t.Fatalf("a list handed out before the bind changed: node-00002 now %d pods, %s", before[2].Pods, q.String())
	}
	after := f.NodeInfos()
	if q := api.QuantityOf(after[2].Requested, api.ResourceMemory); after[2].Pods != 2 || q.String() != "1152Mi" {
		t.Fatalf("after the bind node-00002 has %d pods requesting %s, want 2 and 1152Mi", after[2].Pods, q.String())
	}
}

// Readers walk the lists NodeInfos handed out while commands apply: the
// shared Nodes and Requested maps are replaced, never written in place
// (go test -race is what checks this).
func TestNodeInfosReadersRaceFreeWithApply(t *testing.T) {
	f := fleetFSM(t, 8, 1)
	h := &harness{t: t, f: f, idx: f.Index()}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		reads := 0
		for ctx.Err() == nil {
			for _, ni := range f.NodeInfos() {
				for _, q := range ni.Requested {
					_ = q.Cmp(q)
				}
				_ = placement.NodeReady(ni.Node)
			}
			reads++
		}
		done <- reads
	}()
	for i := range 40 {
		name := fmt.Sprintf("r-%d", i)
		nodeName := fmt.Sprintf("node-%05d", i%8)
		ip, err := f.FreePodIP(nodeName)
		if err != nil {
			t.Fatal(err)
		}
		h.must(create(name, "16Mi"), BindPod{Namespace: "default", Name: name, UID: api.UID("uid-" + name), Node: nodeName, PodIP: ip.String(), Time: t0})
		if i%3 == 0 {
			h.must(DeletePod{Namespace: "default", Name: name})
		}
		if i%10 == 0 {
			reg := node(fmt.Sprintf("late-%d", i), "1Gi", "172.30.0.1")
			reg.ClusterCIDR = "10.0.0.0/8"
			h.must(reg)
		}
	}
	cancel()
	<-done
	f.mu.RLock()
	defer f.mu.RUnlock()
	if err := checkIndexes(f.st); err != nil {
		t.Fatal(err)
	}
}
