package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/deploy/lab"
)

// TestClientGoInCluster runs e2e/clientgo as a pod with
// rest.InClusterConfig() on a TLS lab (client-go sends the mounted token
// only over TLS, checked against the mounted ca.crt): it lists and
// watches the pods of its namespace through the kubernetes Service, then
// the agent its connection lands on is killed, and its log shows it
// listing again and its watch seeing a pod made after the kill: the
// Service moved it to another agent.
func TestClientGoInCluster(t *testing.T) {
	bin := buildClientGo(t)
	f := startFleet(t, labName("ic"), "--nodes", "4", "--servers", "3", "--tls")
	f.importBusybox()
	l, err := lab.Load(f.stateRoot, f.name)
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "clientgo.tar")
	f.run("image", "build-busybox", "-o", archive, "--ref", "shoal.local/clientgo:1",
		"--add", bin+":/usr/bin/clientgo", "--cmd", "/usr/bin/clientgo", "--cmd", "-in-cluster")
	f.run("image", "import", archive)
	k := kubectlOn(t, f)
	// kubectl talks to n4, which holds no seat and is never killed here.
	// Over https with no credentials kubectl asks for a user name, so it
	// gets the default ServiceAccount's token (the lab has no fleet token).
	token := requestToken(t, l, l.Nodes[3], "default", "default")
	k.env[0] = "KUBECONFIG=" + k.file("kubeconfig", f.run("kubeconfig", "--server", l.Nodes[3].APIURL(), "--token", token))

	byAddr := map[string]lab.Node{}
	for _, n := range l.Nodes {
		byAddr[n.Addr] = n
	}
	// One pod on n4; the agent it talks to is whichever agent the
	// kubernetes Service's DNAT chose, found from that agent's side.
	var pod, podIP string
	var talksTo lab.Node
	for try := 1; pod == ""; try++ {
		name := fmt.Sprintf("incluster-%d", try)
		k.ok("run", name, "--image", "shoal.local/clientgo:1", "--restart", "Never",
			"--overrides", `{"spec":{"nodeSelector":{"kubernetes.io/hostname":"n4"}}}`)
		k.eventually(name+" listing and watching", kubeContains("watch synced", ": 1 pods"), "logs", name)
		ip := strings.TrimSpace(k.ok("get", "pod", name, "-o", "jsonpath={.status.podIP}"))
		n, ok := apiPeerOf(t, l, ip)
		if !ok {
			t.Fatalf("no agent holds a connection from %s (%s)", name, ip)
		}
		if n.Name != "n4" {
			pod, podIP, talksTo = name, ip, n
			break
		}
		// The pod's own agent: losing it is losing the node, not
		// the agent it talks to. Try again.
		k.ok("delete", "pod", name, "--wait=true")
		if try == 5 {
			t.Fatal("five pods in a row talked to their own node's agent")
		}
	}
	t.Logf("%s (%s) talks to the API on %s", pod, podIP, talksTo.Name)
	before := lastList(k.ok("logs", pod))

	f.run("lab", "kill", f.name, talksTo.Name, "--state-root", f.stateRoot)
	// It may have been the Raft leader: kubectl's write below needs the
	// next one (the program itself just retries, as a controller does).
	waitLeaderTLS(t, l, talksTo.Name)
	// Until the client agent n4 hears of the new leader it answers 503
	// "retry", as Kubernetes' API does between leaders: kubectl retries.
	eventually(t, "kubectl run after the kill accepted", func() string {
		out, err := k.try("run", "after-kill", "--image", image, "--restart", "Never", "--command", "--", "sleep", "3600")
		if err == nil || strings.Contains(out, "AlreadyExists") {
			return ""
		}
		return out
	})
	out := k.eventually("the in-cluster program listing again and watching a pod made after the kill",
		func(out string) bool {
			return strings.Contains(out, "watch added after-kill") && lastList(out) > before+3
		},
		"logs", pod)
	if n, ok := apiPeerOf(t, l, podIP); !ok || n.Name == talksTo.Name {
		t.Errorf("after the kill the program's connection is on %q (found %v), want another agent than %s\n%s", n.Name, ok, talksTo.Name, out)
	}
	if st := k.ok("get", "pod", pod, "-o", "jsonpath={.status.phase}"); st != "Running" {
		t.Errorf("the in-cluster program is %s, want Running\n%s", st, out)
	}
}

// requestToken asks n's API for a token of ServiceAccount ns/sa
// (TokenRequest), trusting the lab's CA.
func requestToken(t *testing.T, l *lab.Lab, n lab.Node, ns, sa string) string {
	t.Helper()
	resp, err := labTLSClient(t, l).Post(fmt.Sprintf("%s/api/v1/namespaces/%s/serviceaccounts/%s/token", n.APIURL(), ns, sa), "application/json",
		strings.NewReader(`{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr struct {
		Status struct {
			Token string `json:"token"`
		} `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK || tr.Status.Token == "" {
		t.Fatalf("TokenRequest for %s/%s: %s, %v", ns, sa, resp.Status, err)
	}
	return tr.Status.Token
}

// labTLSClient trusts the lab's CA.
func labTLSClient(t *testing.T, l *lab.Lab) *http.Client {
	t.Helper()
	ca, err := os.ReadFile(l.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		t.Fatalf("no certificate in %s", l.CAFile)
	}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
}

// waitLeaderTLS waits until a live agent of a TLS lab names a Raft leader
// other than down.
func waitLeaderTLS(t *testing.T, l *lab.Lab, down string) {
	t.Helper()
	client := labTLSClient(t, l)
	eventually(t, "a Raft leader other than "+down, func() string {
		for _, n := range l.Nodes {
			if n.Name == down {
				continue
			}
			resp, err := client.Get(n.APIURL() + "/shoal/v1/cluster")
			if err != nil {
				continue
			}
			var v clusterView
			err = json.NewDecoder(resp.Body).Decode(&v)
			resp.Body.Close()
			if err == nil && v.Leader != "" && v.Leader != down {
				return ""
			}
		}
		return "no agent names another leader"
	})
}

var listLine = regexp.MustCompile(`list (\d+): \d+ pods`)

// lastList is the number of the last list the program logged as done.
func lastList(log string) int {
	last := 0
	for _, m := range listLine.FindAllStringSubmatch(log, -1) {
		last, _ = strconv.Atoi(m[1])
	}
	return last
}

// apiPeerOf is the agent with an established connection from podIP on its
// API port: the Service DNATs on the client's node and never SNATs, so the
// agent sees the pod's own address.
func apiPeerOf(t *testing.T, l *lab.Lab, podIP string) (lab.Node, bool) {
	t.Helper()
	for _, n := range l.Nodes {
		out, err := exec.Command("ip", "netns", "exec", n.Netns, "ss", "-Htn", "state", "established",
			fmt.Sprintf("( sport = :%d )", lab.APIPort), "dst", podIP).CombinedOutput()
		if err != nil {
			continue // a killed agent's namespace answers nothing
		}
		if strings.TrimSpace(string(out)) != "" {
			return n, true
		}
	}
	return lab.Node{}, false
}
