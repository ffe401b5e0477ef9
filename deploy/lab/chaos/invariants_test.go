package chaos

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

func pod(name, uid, node string, phase api.PodPhase, ip string, labels map[string]string) api.Pod {
	return api.Pod{
		ObjectMeta: api.ObjectMeta{Name: name, UID: api.UID(uid), Labels: labels},
		Spec:       api.PodSpec{NodeName: node},
		Status:     api.PodStatus{Phase: phase, PodIP: ip},
	}
}

func rcOf(name string, n int32) api.ReplicationController {
	return api.ReplicationController{
		ObjectMeta: api.ObjectMeta{Name: name},
		Spec:       api.ReplicationControllerSpec{Replicas: &n, Selector: map[string]string{"app": name}},
	}
}

func TestContainerdMismatch(t *testing.T) {
	o := Observation{
		Pods: []api.Pod{
			pod("a", "u1", "n1", api.PodRunning, "10.0.0.1", nil),
			pod("b", "u2", "n2", api.PodRunning, "10.0.1.1", nil),
		},
		Running: map[string]map[string]string{"n1": {"u1": "a"}, "n2": {"u2": "b"}},
	}
	if got := ContainerdMismatch(o); len(got) != 0 {
		t.Fatalf("matching fleet: %v", got)
	}
	o.Running["n3"] = map[string]string{"u1": "a", "u9": "ghost"}
	got := strings.Join(ContainerdMismatch(o), "\n")
	for _, want := range []string{"runs pod ghost (uid u9), which is not in the state", "pod a (uid u1) runs on n1 and n3 at once"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	delete(o.Running, "n3")
	delete(o.Running["n2"], "u2")
	if got := ContainerdMismatch(o); len(got) != 1 || !strings.Contains(got[0], "pod b is Running on n2") {
		t.Errorf("missing pod: %v", got)
	}
}

func TestDuplicateIPs(t *testing.T) {
	o := Observation{
		Pods: []api.Pod{
			pod("a", "u1", "n1", api.PodRunning, "10.0.0.1", nil),
			pod("b", "u2", "n1", api.PodRunning, "10.0.0.1", nil),
			pod("c", "u3", "n1", api.PodPending, "10.0.0.2", nil),
			pod("d", "u4", "n1", api.PodRunning, "10.0.0.2", nil),
		},
		NetnsIPs: map[string]map[string][]string{
			"n1": {"10.0.0.5": {"ns1", "ns2"}, "10.0.0.6": {"ns3"}},
			"n2": {"10.0.0.6": {"ns4"}},
		},
	}
	got := strings.Join(DuplicateIPs(o), "\n")
	for _, want := range []string{"IP 10.0.0.1 held by Running pods a@n1, b@n1", "IP 10.0.0.5 on pod netns n1:ns1, n1:ns2", "IP 10.0.0.6 on pod netns n1:ns3, n2:ns4"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "10.0.0.2") {
		t.Errorf("a Pending pod's IP counted:\n%s", got)
	}
}

func TestReplicaShortfalls(t *testing.T) {
	app := map[string]string{"app": "web"}
	o := Observation{
		RCs: []api.ReplicationController{rcOf("web", 2)},
		Pods: []api.Pod{
			pod("w1", "u1", "n1", api.PodRunning, "", app),
			pod("w2", "u2", "n2", api.PodRunning, "", app),
			pod("bare", "u3", "n2", api.PodPending, "", nil),
		},
	}
	if got := ReplicaShortfalls(o, nil); len(got) != 0 {
		t.Fatalf("at count: %v", got)
	}
	if got := ReplicaShortfalls(o, map[string]bool{"n2": true}); len(got) != 1 {
		t.Fatalf("a replica on an away node counts: %v", got)
	}
	if got := NotRunning(o); len(got) != 1 || !strings.Contains(got[0], "bare pod bare is Pending") {
		t.Fatalf("NotRunning: %v", got)
	}
}

func TestLedger(t *testing.T) {
	l := NewLedger()
	present := value{Present: true, Replicas: -1}
	l.Begin("pod/a", present)
	l.End("pod/a", present, Acked)
	l.Begin("rc/r", value{true, 3})
	l.End("rc/r", value{true, 3}, Acked)
	state := Observation{Pods: []api.Pod{pod("a", "u", "n1", api.PodRunning, "", nil)}, RCs: []api.ReplicationController{rcOf("r", 3)}}
	if got := l.Check(state); len(got) != 0 {
		t.Fatalf("state holds every acked write: %v", got)
	}
	// A scale that may have landed: either count is fine.
	l.Begin("rc/r", value{true, 5})
	l.End("rc/r", value{true, 5}, Ambiguous)
	state.RCs = []api.ReplicationController{rcOf("r", 5)}
	if got := l.Check(state); len(got) != 0 {
		t.Fatalf("ambiguous scale landed: %v", got)
	}
	// It may land even after a later acked scale: it never completed.
	l.Begin("rc/r", value{true, 2})
	l.End("rc/r", value{true, 2}, Acked)
	if got := l.Check(state); len(got) != 0 {
		t.Fatalf("ambiguous scale landed after a later acked one: %v", got)
	}
	state.RCs = []api.ReplicationController{rcOf("r", 3)}
	if got := l.Check(state); len(got) != 1 {
		t.Fatalf("acked scale to 2 lost, state has 3: %v", got)
	}
	l.Begin("rc/r", value{true, 3})
	l.End("rc/r", value{true, 3}, Acked)
	// A rejected one may not have.
	l.Begin("rc/r", value{true, 1})
	l.End("rc/r", value{true, 1}, Rejected)
	state.RCs = []api.ReplicationController{rcOf("r", 1)}
	if got := l.Check(state); len(got) != 1 || !strings.Contains(got[0], "acknowledged present with 3 replicas, state has it present with 1 replicas") {
		t.Fatalf("rejected scale in the state: %v", got)
	}
	// An acked delete that the state lost.
	l.Begin("pod/a", value{})
	l.End("pod/a", value{}, Acked)
	state.RCs = []api.ReplicationController{rcOf("r", 3)}
	if got := l.Check(state); len(got) != 1 || !strings.Contains(got[0], "pod/a: acknowledged absent") {
		t.Fatalf("deleted pod back: %v", got)
	}
	if got := l.Present("pod/"); len(got) != 0 {
		t.Fatalf("Present after delete: %v", got)
	}
	if c := l.Counts(); c[Acked] != 5 || c[Ambiguous] != 1 || c[Rejected] != 1 {
		t.Fatalf("counts %v", c)
	}
}

func TestPersistent(t *testing.T) {
	p := newPersistent(10 * time.Second)
	t0 := time.Unix(0, 0)
	if got := p.observe([]string{"x"}, t0); len(got) != 0 {
		t.Fatal(got)
	}
	if got := p.observe([]string{"x"}, t0.Add(5*time.Second)); len(got) != 0 {
		t.Fatal(got)
	}
	if got := p.observe(nil, t0.Add(6*time.Second)); len(got) != 0 {
		t.Fatal(got)
	}
	// Gone once: the clock starts again.
	p.observe([]string{"x"}, t0.Add(7*time.Second))
	if got := p.observe([]string{"x"}, t0.Add(16*time.Second)); len(got) != 0 {
		t.Fatal(got)
	}
	if got := p.observe([]string{"x"}, t0.Add(18*time.Second)); len(got) != 1 {
		t.Fatalf("persisting finding not reported: %v", got)
	}
}

func TestOutcomeOf(t *testing.T) {
	for _, c := range []struct {
		err  error
		want Outcome
	}{
		{nil, Acked},
		{&statusError{Code: 409}, Rejected},
		{&statusError{Code: 422}, Rejected},
		{&statusError{Code: 503}, Ambiguous},
		{&statusError{Code: 503, Body: `{"message":"no Raft leader is known to this agent yet"}`, NotWritten: true}, Rejected},
		{&statusError{Code: 503, Body: `{"message":"this agent leads but its state is not current yet"}`, NotWritten: true}, Rejected},
		// The words alone prove nothing: only the agent's header does.
		{&statusError{Code: 503, Body: `{"message":"no Raft leader is known to this agent yet; retry in a moment"}`}, Ambiguous},
		{&statusError{Code: 504, Body: "the leader did not answer"}, Ambiguous},
		{&statusError{Code: 502, Body: "the agent this request was forwarded to did not answer"}, Ambiguous},
		{&statusError{Code: 408}, Ambiguous},
		{context_deadline{}, Ambiguous},
	} {
		if got := outcomeOf(c.err); got != c.want {
			t.Errorf("outcomeOf(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

type context_deadline struct{}

func (context_deadline) Error() string { return "deadline exceeded" }

func TestReplicaExcess(t *testing.T) {
	app := map[string]string{"app": "web"}
	o := Observation{
		RCs: []api.ReplicationController{rcOf("web", 2), rcOf("db", 1)},
		Pods: []api.Pod{
			pod("web-1", "u1", "n1", api.PodRunning, "", app),
			pod("web-2", "u2", "n2", api.PodRunning, "", app),
			pod("bare", "u3", "n2", api.PodRunning, "", nil),
		},
		Running: map[string]map[string]string{"n1": {"u1": "web-1"}, "n2": {"u2": "web-2", "u3": "bare"}},
	}
	if got := ReplicaExcess(o); len(got) != 0 {
		t.Fatalf("at count: %v", got)
	}
	// A replica the state deleted still runs on n3: three web pods run.
	o.Running["n3"] = map[string]string{"u9": "web-9"}
	got := ReplicaExcess(o)
	if len(got) != 1 || !strings.Contains(got[0], "rc web: want 2, containerd runs 3: web-1@n1, web-2@n2, web-9@n3") {
		t.Fatalf("deleted replica still running: %v", got)
	}
	// Scaled down to one in the state while both still run.
	one := int32(1)
	o.RCs[0].Spec.Replicas = &one
	delete(o.Running, "n3")
	if got := ReplicaExcess(o); len(got) != 1 || !strings.Contains(got[0], "want 1, containerd runs 2") {
		t.Fatalf("above a lower count: %v", got)
	}
}

func TestRestarted(t *testing.T) {
	withRestarts := func(p api.Pod, n int32) api.Pod {
		p.Status.ContainerStatuses = []api.ContainerStatus{{Name: "c", RestartCount: n}}
		return p
	}
	before := []api.Pod{
		withRestarts(pod("a", "ua", "n1", api.PodRunning, "", nil), 0),
		withRestarts(pod("b", "ub", "n2", api.PodRunning, "", nil), 1),
		withRestarts(pod("c", "uc", "n3", api.PodRunning, "", nil), 0),
		withRestarts(pod("d", "ud", "n3", api.PodPending, "", nil), 0),
	}
	after := []api.Pod{
		withRestarts(pod("a", "ua", "n1", api.PodRunning, "", nil), 0),  // kept
		withRestarts(pod("b", "ub", "n2", api.PodRunning, "", nil), 2),  // restarted
		withRestarts(pod("c", "uc2", "n3", api.PodRunning, "", nil), 5), // a new pod of that name
		withRestarts(pod("d", "ud", "n3", api.PodRunning, "", nil), 3),  // was not Running before
		withRestarts(pod("e", "uc", "n3", api.PodFailed, "", nil), 0),   // same UID, stopped
	}
	got := Restarted(before, after)
	want := []string{"pod b container c restarted (1 -> 2)", "pod e was Running, is Failed"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Restarted = %q, want %q", got, want)
	}
}
