package placement

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/shoal-dev/shoal/api"
)

// benchFleet builds a simulated fleet of n nodes with mixed capacities
// (2..64Gi, 2..32 cpus, pod limits), zone and disk labels, a few nodes not
// ready or cordoned, and some load already bound. The seed is fixed so the
// three sizes are the same kind of fleet and runs compare.
func benchFleet(n int) []NodeInfo {
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	mems := []string{"2Gi", "4Gi", "8Gi", "16Gi", "32Gi", "64Gi"}
	cpus := []string{"2", "4", "8", "16", "32"}
	disks := []string{"ssd", "hdd"}
	out := make([]NodeInfo, n)
	for i := range out {
		ready := api.ConditionTrue
		if rng.IntN(50) == 0 {
			ready = "False"
		}
		nd := &api.Node{
			ObjectMeta: api.ObjectMeta{Name: fmt.Sprintf("node-%05d", i), Labels: map[string]string{
				"zone": fmt.Sprintf("z%d", rng.IntN(4)),
				"disk": disks[rng.IntN(len(disks))],
			}},
			Spec: api.NodeSpec{Unschedulable: rng.IntN(100) == 0},
			Status: api.NodeStatus{
				Allocatable: api.ResourceList{
					api.ResourceMemory: resource.MustParse(mems[rng.IntN(len(mems))]),
					api.ResourceCPU:    resource.MustParse(cpus[rng.IntN(len(cpus))]),
					api.ResourcePods:   resource.MustParse("110"),
				},
				Conditions: []api.NodeCondition{{Type: "Ready", Status: ready}},
			},
		}
		used := rng.IntN(20)
		out[i] = NodeInfo{Node: nd, Pods: used, Requested: api.ResourceList{
			api.ResourceMemory: *resource.NewQuantity(int64(used)*64<<20, resource.BinarySI),
			api.ResourceCPU:    *resource.NewMilliQuantity(int64(used)*50, resource.DecimalSI),
		}}
	}
	return out
}

// benchPods is the mix a fleet sees: sidecar pods, pods with init
// containers, pods pinned by a node selector, pods without requests.
func benchPods() []*api.Pod {
	req := func(mem, cpu string) api.ResourceRequirements {
		return api.ResourceRequirements{Requests: api.ResourceList{
			api.ResourceMemory: resource.MustParse(mem), api.ResourceCPU: resource.MustParse(cpu)}}
	}
	web := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "web", Namespace: "default"}, Spec: api.PodSpec{Containers: []api.Container{
		{Name: "app", Image: "web:1", Resources: req("256Mi", "250m")},
		{Name: "log", Image: "log:1", Resources: req("64Mi", "50m")},
	}}}
	db := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "db", Namespace: "default"}, Spec: api.PodSpec{
		NodeSelector:   map[string]string{"disk": "ssd", "zone": "z1"},
		InitContainers: []api.Container{{Name: "migrate", Image: "db:1", Resources: req("1Gi", "500m")}},
		Containers:     []api.Container{{Name: "db", Image: "db:1", Resources: req("512Mi", "1")}},
	}}
	batch := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "batch", Namespace: "default"}, Spec: api.PodSpec{Containers: []api.Container{
		{Name: "job", Image: "job:1", Resources: req("128Mi", "100m")},
	}}}
	bare := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "bare", Namespace: "default"}, Spec: api.PodSpec{Containers: []api.Container{
		{Name: "c", Image: "busybox:1"},
	}}}
	return []*api.Pod{web, db, batch, web, batch, bare}
}

// BenchmarkChoose places pods one after another on fleets of 100, 1,000
// and 5,000 nodes, binding each to the chosen node (as the leader's
// commit would) so the fleet fills up the way a real one does; when a pod
// no longer fits anywhere the fleet starts again from its initial load.
func BenchmarkChoose(b *testing.B) {
	for _, n := range []int{100, 1000, 5000} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			initial := benchFleet(n)
			pods := benchPods()
			reqs := make([]api.ResourceList, len(pods))
			for i, p := range pods {
				reqs[i] = api.PodRequests(p)
			}
			fleet := cloneFleet(initial)
			index := make(map[string]int, n)
			for i, ni := range fleet {
				index[ni.Node.ObjectMeta.Name] = i
			}
			b.ReportAllocs()
			cpu0 := cpuTime(b)
			i := 0
			for b.Loop() {
				k := i % len(pods)
				i++
				name, _, err := Choose(pods[k], fleet)
				if err != nil {
					b.StopTimer()
					fleet = cloneFleet(initial)
					b.StartTimer()
					continue
				}
				bind(&fleet[index[name]], reqs[k])
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pods/s")
			// The machine is shared, so wall time also counts waiting for a
			// core; CPU time is what placement itself costs.
			b.ReportMetric(float64(b.N)/(cpuTime(b)-cpu0).Seconds(), "pods/cpu-s")
		})
	}
}

func cloneFleet(in []NodeInfo) []NodeInfo {
	out := make([]NodeInfo, len(in))
	for i, ni := range in {
		req := make(api.ResourceList, len(ni.Requested))
		for k, v := range ni.Requested {
			req[k] = v.DeepCopy()
		}
		out[i] = NodeInfo{Node: ni.Node, Requested: req, Pods: ni.Pods}
	}
	return out
}

func bind(ni *NodeInfo, req api.ResourceList) {
	for res, q := range req {
		sum := ni.Requested[res]
		sum.Add(q)
		ni.Requested[res] = sum
	}
	ni.Pods++
}

// cpuTime is the user+system CPU time the process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
