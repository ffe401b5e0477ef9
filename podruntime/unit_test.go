package podruntime

import (
	"context"
	"testing"
	"time"

	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/shoal-dev/shoal/api"
)

func TestBackoffIsImmediateThenDoublesFromTenSecondsToTheCap(t *testing.T) {
	b := newBackoff(10*time.Second, 5*time.Minute)
	now := time.Unix(1000, 0)
	if w := b.wait("c", now); w != 0 {
		t.Fatalf("first restart waits %v, want 0", w)
	}
	want := []time.Duration{10, 20, 40, 80, 160, 300, 300}
	for i, d := range want {
		b.restarted("c", now)
		if got := b.wait("c", now); got != d*time.Second {
			t.Fatalf("after restart %d: wait %v, want %v", i+1, got, d*time.Second)
		}
		if got := b.wait("c", now.Add(d*time.Second)); got != 0 {
			t.Fatalf("after restart %d: still waiting %v once the delay passed", i+1, got)
		}
	}
	if b.wait("other", now) != 0 {
		t.Error("back-off leaked to another container")
	}
	b.forget("c")
	if b.wait("c", now) != 0 {
		t.Error("forget did not reset the back-off")
	}
}

func TestPodPhase(t *testing.T) {
	run := containerView{startedOnce: true, running: true}
	ok := containerView{startedOnce: true, done: true}
	failed := containerView{startedOnce: true, done: true, exitCode: 3}
	restarting := containerView{startedOnce: true, exitCode: 1}
	notStarted := containerView{}
	tests := []struct {
		name  string
		views []containerView
		want  api.PodPhase
	}{
		{"no containers", nil, api.PodPending},
		{"one never started", []containerView{run, notStarted}, api.PodPending},
		{"one running", []containerView{run, ok}, api.PodRunning},
		{"one restarting after failures", []containerView{failed, restarting}, api.PodRunning},
		{"all exited zero for good", []containerView{ok, ok}, api.PodSucceeded},
		{"all done, one failed", []containerView{ok, failed}, api.PodFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := podPhase(tc.views); got != tc.want {
				t.Errorf("podPhase = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestShouldRestart(t *testing.T) {
	tests := []struct {
		policy api.RestartPolicy
		code   int32
		want   bool
	}{
		{api.RestartAlways, 0, true},
		{api.RestartAlways, 1, true},
		{"", 0, true},
		{api.RestartOnFailure, 0, false},
		{api.RestartOnFailure, 137, true},
		{api.RestartNever, 1, false},
		{api.RestartNever, 0, false},
	}
	for _, tc := range tests {
		if got := shouldRestart(api.RestartPolicy(tc.policy), tc.code); got != tc.want {
			t.Errorf("shouldRestart(%q, %d) = %v, want %v", tc.policy, tc.code, got, tc.want)
		}
	}
}

func TestContainerIDFitsLongestContainerName(t *testing.T) {
	name := "c23456789012345678901234567890123456789012345678901234567890123" // 63, the DNS label maximum
	id := containerID("0123456789abcdef-0123-4567-89ab-cdef01234567", name)
	if len(id) > 76 {
		t.Errorf("id %q is %d chars, want at most 76", id, len(id))
	}
	if id != "0123456789ab-"+name {
		t.Errorf("id %q, want the first 12 of the uid, a dash, the name", id)
	}
}

func TestSpecHashFollowsImageAndNetns(t *testing.T) {
	a := api.Container{Name: "app", Image: "busybox:1"}
	b := a
	b.Image = "busybox:2"
	ha, _ := specHash(a, "/run/netns/x")
	ha2, _ := specHash(a, "/run/netns/x")
	hb, _ := specHash(b, "/run/netns/x")
	hn, _ := specHash(a, "/run/netns/y")
	if ha != ha2 {
		t.Error("hash of the same spec differs")
	}
	if ha == hb {
		t.Error("hash ignores the image")
	}
	if ha == hn {
		t.Error("hash ignores the network namespace")
	}
}

func TestResourceLimitsBecomeCFSQuotaAndRequestsShares(t *testing.T) {
	c := api.Container{Name: "app", Resources: api.ResourceRequirements{Limits: api.ResourceList{
		api.ResourceCPU:    resource.MustParse("250m"),
		api.ResourceMemory: resource.MustParse("64Mi"),
	}, Requests: api.ResourceList{api.ResourceCPU: resource.MustParse("100m")}}}
	opts, err := resourceOpts(c)
	if err != nil {
		t.Fatalf("resourceOpts: %v", err)
	}
	// As the default spec containerd starts from has them.
	s := oci.Spec{Linux: &specs.Linux{Resources: &specs.LinuxResources{CPU: &specs.LinuxCPU{}}}}
	for _, o := range opts {
		if err := o(context.Background(), nil, &containers.Container{}, &s); err != nil {
			t.Fatal(err)
		}
	}
	res := s.Linux.Resources
	if got := *res.CPU.Quota; got != 25000 || *res.CPU.Period != 100000 {
		t.Errorf("cpu quota/period %d/%d, want 25000/100000", got, *res.CPU.Period)
	}
	if got := *res.CPU.Shares; got != 102 {
		t.Errorf("cpu shares %d, want 102 (100m as the kubelet weighs it)", got)
	}
	if got := *res.Memory.Limit; got != 64<<20 {
		t.Errorf("memory limit %d, want %d", got, 64<<20)
	}
	bad := api.Container{Name: "bad", Resources: api.ResourceRequirements{Limits: api.ResourceList{
		api.ResourceCPU: resource.MustParse("0"),
	}}}
	if _, err := resourceOpts(bad); err == nil {
		t.Error("a zero cpu limit was accepted")
	}
}
