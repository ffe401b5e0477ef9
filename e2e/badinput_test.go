package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// TestBadInputOnALab throws bad input at a real fleet (docs/bad-input.md),
// through client agents that forward to the leader as well as through the
// CLI: each rejection is a clear Status or CLI error and nothing stored
// changes; racing creates sent to different agents have one winner; a pod
// no node can hold is accepted and stays Pending with every node's reason.
func TestBadInputOnALab(t *testing.T) {
	f := startFleet(t, labName("bi"), "--nodes", "3", "--servers", "1", "--node-memory", "1Gi")
	l := f.labState()
	var urls []string
	for _, n := range l.Nodes {
		urls = append(urls, n.APIURL())
	}
	f.apply(`apiVersion: v1
kind: Pod
metadata: {name: keep}
spec:
  containers: [{name: app, image: shoal.local/busybox:1, resources: {requests: {memory: 16Mi}}}]
`)
	f.waitPod("keep", "bound", func(p *api.Pod) bool { return p.Spec.NodeName != "" })
	before := labStored(t, urls[0])

	pods := "/api/v1/namespaces/default/pods"
	pod := func(name, extra string) string {
		return fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: %s}\nspec:\n  containers: [{name: app, image: shoal.local/busybox:1}]\n%s", name, extra)
	}
	huge := pod("huge", "  hostname: "+strings.Repeat("x", api.MaxManifestBytes)+"\n")
	deep := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"deep"},"spec":` + strings.Repeat(`{"a":`, 100_000) + "1" + strings.Repeat("}", 100_000) + "}"
	rc := func(replicas int) string {
		return fmt.Sprintf("apiVersion: v1\nkind: ReplicationController\nmetadata: {name: neg}\nspec:\n  replicas: %d\n  selector: {app: neg}\n  template:\n    metadata: {labels: {app: neg}}\n    spec: {containers: [{name: app, image: shoal.local/busybox:1}]}\n", replicas)
	}
	cases := []struct {
		name, path, body string
		code             int
		reason, message  string
	}{
		{"huge body", pods, huge, 413, "RequestEntityTooLarge", "larger than"},
		{"deeply nested", pods, deep, 400, "BadRequest", "max depth"},
		{"malformed", pods, "kind: Pod\nmetadata: {name: [", 400, "BadRequest", "yaml"},
		{"wrong kind", pods, strings.Replace(pod("svc", ""), "kind: Pod", "kind: Service", 1), 422, "Invalid", "this endpoint takes a Pod"},
		{"name too long", pods, pod(strings.Repeat("n", 254), ""), 422, "Invalid", "metadata.name"},
		{"negative replicas", "/api/v1/namespaces/default/replicationcontrollers", rc(-1), 422, "Invalid", "spec.replicas"},
	}
	// Through every agent: n1 holds the one Raft seat, n2 and n3 forward.
	for _, base := range urls {
		for _, c := range cases {
			code, st := postYAML(t, base+c.path, c.body)
			if code != c.code || st.Kind != "Status" || string(st.Reason) != c.reason || !strings.Contains(st.Message, c.message) {
				t.Errorf("%s via %s: HTTP %d %s %q, want %d %s %q", c.name, base, code, st.Reason, st.Message, c.code, c.reason, c.message)
			}
		}
	}

	// A body cut short of its Content-Length: the same 400 from every
	// agent, the followers' included (they read it before forwarding).
	for _, base := range urls {
		code, st := postShortBody(t, base+pods, pod("short", ""), 4096)
		if code != http.StatusBadRequest || st.Reason != "BadRequest" || !strings.Contains(st.Message, "unexpected EOF") {
			t.Errorf("short body via %s: HTTP %d %s %q, want 400 BadRequest \"read body: unexpected EOF\"", base, code, st.Reason, st.Message)
		}
	}

	// The CLI names the document and the field before anything is sent.
	dir := t.TempDir()
	for name, body := range map[string]string{
		"typo":   strings.Replace(pod("typo", ""), "image:", "imagee: x, image:", 1),
		"broken": "apiVersion: v1\nkind: Pod\nmetadata: {name: [\n",
		"second": pod("fine", "") + "---\n" + pod("Bad_Name", ""),
	} {
		path := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := f.try("apply", "-f", path)
		if err == nil || !strings.Contains(out, "document") {
			t.Errorf("apply %s: err %v, output %q", name, err, out)
		}
	}
	if after := labStored(t, urls[0]); after != before {
		t.Fatalf("rejected requests changed what is stored:\nbefore %s\nafter  %s", before, after)
	}

	// Racing creates of one name, sent to all three agents at once.
	var mu sync.Mutex
	got := map[int]int{}
	var wg sync.WaitGroup
	for i := 0; i < 9; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			code, _ := postYAML(t, urls[i%len(urls)]+pods, pod("race", fmt.Sprintf("  hostname: w%d\n", i)))
			mu.Lock()
			got[code]++
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	if got[http.StatusCreated] != 1 || got[http.StatusConflict] != 8 {
		t.Errorf("9 racing creates: %v, want one 201 and eight 409", got)
	}

	// Racing `shoal apply` of one new name with different labels: one
	// creates, the others update at the version they read or get Conflict;
	// what is stored is one writer's manifest whole, never a mix.
	outs := make([]string, 4)
	errs := make([]error, 4)
	for i := range outs {
		path := filepath.Join(dir, fmt.Sprintf("apply%d.yaml", i))
		manifest := strings.Replace(pod("raced", ""), "metadata: {name: raced}", fmt.Sprintf("metadata: {name: raced, labels: {writer: w%d, copy: w%d}}", i, i), 1)
		if err := os.WriteFile(path, []byte(manifest), 0o644); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			outs[i], errs[i] = f.try("apply", "-f", path)
		}(i)
	}
	wg.Wait()
	created := 0
	for i, out := range outs {
		switch {
		case errs[i] == nil && strings.Contains(out, "created"):
			created++
		case errs[i] == nil && strings.Contains(out, "configured"), errs[i] != nil && strings.Contains(out, "has been modified"):
		default:
			t.Errorf("apply %d: %v %q", i, errs[i], out)
		}
	}
	raced, err := f.pod("raced")
	if err != nil {
		t.Fatal(err)
	}
	if created != 1 || raced.ObjectMeta.Labels["writer"] == "" || raced.ObjectMeta.Labels["writer"] != raced.ObjectMeta.Labels["copy"] {
		t.Errorf("racing applies: %d created, stored labels %v", created, raced.ObjectMeta.Labels)
	}

	// Bigger than any node: accepted, Pending, the nodes counted per reason
	// and each node's numbers shown.
	f.apply(`apiVersion: v1
kind: Pod
metadata: {name: giant}
spec:
  containers: [{name: app, image: shoal.local/busybox:1, resources: {requests: {memory: 64Gi}}}]
`)
	deadline := time.Now().Add(60 * time.Second)
	var out string
	for {
		out, _ = f.try("describe", "pod", "giant")
		ok := strings.Contains(out, "FailedScheduling") && strings.Contains(out, fmt.Sprintf("0/%d nodes are available: %d insufficient memory (", len(l.Nodes), len(l.Nodes)))
		for _, n := range l.Nodes { // a sample of up to five: all three
			ok = ok && strings.Contains(out, n.Name+": memory 64Gi requested")
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("describe never showed every node's reason:\n%s", out)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if p := f.waitPod("giant", "Pending", func(p *api.Pod) bool { return p.Status.Phase == api.PodPending }); p.Spec.NodeName != "" {
		t.Fatalf("giant bound to %s", p.Spec.NodeName)
	}
}

func postYAML(t *testing.T, url, body string) (int, api.Status) {
	t.Helper()
	resp, err := http.Post(url, "application/yaml", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var st api.Status
	_ = json.Unmarshal(b, &st)
	return resp.StatusCode, st
}

// postShortBody sends a POST whose Content-Length claims more bytes than
// follow, then half-closes the connection: what a client that dies
// mid-upload leaves behind. net/http refuses to send such a request.
func postShortBody(t *testing.T, rawURL, body string, claimed int) (int, api.Status) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatalf("dial %s: %v", u.Host, err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/yaml\r\nContent-Length: %d\r\n\r\n%s", u.RequestURI(), u.Host, claimed, body)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("POST %s with a short body: %v", rawURL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var st api.Status
	_ = json.Unmarshal(b, &st)
	return resp.StatusCode, st
}

// labStored is every pod's and RC's identity and spec, without what moves
// by itself (status, resourceVersion).
func labStored(t *testing.T, base string) string {
	t.Helper()
	var lines []string
	var pl api.PodList
	var rl api.ReplicationControllerList
	for path, into := range map[string]any{"/api/v1/pods": &pl, "/api/v1/replicationcontrollers": &rl} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		err = json.NewDecoder(resp.Body).Decode(into)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("decode %s: %v", path, err)
		}
	}
	for _, p := range pl.Items {
		spec, _ := json.Marshal(p.Spec)
		lines = append(lines, fmt.Sprintf("pod %s/%s %s %s", p.ObjectMeta.Namespace, p.ObjectMeta.Name, p.ObjectMeta.UID, spec))
	}
	for _, rc := range rl.Items {
		spec, _ := json.Marshal(rc.Spec)
		lines = append(lines, fmt.Sprintf("rc %s/%s %s %s", rc.ObjectMeta.Namespace, rc.ObjectMeta.Name, rc.ObjectMeta.UID, spec))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
