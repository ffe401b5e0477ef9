package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDeployments drives a Deployment through the machine's kubectl:
// create, scale, a rolling image update sampled while it rolls, and
// rollout status.
func TestDeployments(t *testing.T) {
	k := startKubectlFleet(t)
	const image2 = "shoal.local/busybox:2"
	archive := filepath.Join(t.TempDir(), "busybox2.tar")
	k.run("image", "build-busybox", "-o", archive, "--ref", image2)
	k.run("image", "import", archive)

	if out := k.ok("create", "deployment", "web", "--image="+image, "--replicas=3", "--", "sleep", "100000"); !strings.Contains(out, "deployment.apps/web created") {
		t.Fatalf("kubectl create deployment:\n%s", out)
	}
	k.eventually("3 of 3 ready", kubeRow("web", "3/3", "3", "3").MatchString, "get", "deployment", "web")
	if ps := k.webPods(); ps.running != 3 || ps.ready != 3 {
		t.Fatalf("pods after create: %+v", ps)
	}

	k.ok("scale", "deployment", "web", "--replicas=5")
	k.eventually("5 of 5 ready", kubeRow("web", "5/5", "5", "5").MatchString, "get", "deploy", "web")

	// Sample the Ready pods while the update rolls: 25% of 5 may be
	// unavailable, rounded down: at least 4 stay Ready.
	var (
		mu       sync.Mutex
		minReady = 1 << 30
		samples  int
		stop     = make(chan struct{})
		done     = make(chan struct{})
	)
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if ps, ok := k.tryWebPods(); ok {
				mu.Lock()
				minReady = min(minReady, ps.ready)
				samples++
				mu.Unlock()
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	k.ok("set", "image", "deployment/web", "*="+image2)
	out := k.ok("rollout", "status", "deployment/web", "--timeout=5m")
	close(stop)
	<-done
	if !strings.Contains(out, `deployment "web" successfully rolled out`) {
		t.Fatalf("kubectl rollout status:\n%s", out)
	}
	mu.Lock()
	t.Logf("rolling update: %d samples, fewest Ready pods seen %d", samples, minReady)
	if samples < 3 || minReady < 4 {
		t.Fatalf("rolling update: %d samples, fewest Ready pods %d, want at least replicas - maxUnavailable = 4", samples, minReady)
	}
	mu.Unlock()

	var rsList struct {
		Items []struct {
			Metadata struct {
				Name        string            `json:"name"`
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
			Spec struct {
				Replicas int `json:"replicas"`
				Template struct {
					Spec struct {
						Containers []struct {
							Image string `json:"image"`
						} `json:"containers"`
					} `json:"spec"`
				} `json:"template"`
			} `json:"spec"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(k.ok("get", "rs", "-l", "app=web", "-o", "json")), &rsList); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, rs := range rsList.Items {
		got[rs.Spec.Template.Spec.Containers[0].Image] = rs.Spec.Replicas
	}
	if len(got) != 2 || got[image] != 0 || got[image2] != 5 {
		t.Fatalf("replica sets after the update (image: replicas): %v", got)
	}
	ps := k.webPods()
	if ps.ready != 5 || ps.images[image2] != 5 || len(ps.images) != 1 {
		t.Fatalf("pods after the update: %+v", ps)
	}
	k.ok("rollout", "history", "deployment/web")
	k.ok("delete", "deployment", "web")
	k.eventually("no pods left", func(out string) bool { return !strings.Contains(out, "web-") }, "get", "pods", "-l", "app=web")
}

type webPods struct {
	running, ready int
	images         map[string]int
}

func (k *kubectlFleet) webPods() webPods {
	k.t.Helper()
	ps, ok := k.tryWebPods()
	if !ok {
		k.t.Fatal("kubectl get pods -l app=web failed")
	}
	return ps
}

func (k *kubectlFleet) tryWebPods() (webPods, bool) {
	out, err := k.try("get", "pods", "-l", "app=web", "-o", "json")
	if err != nil {
		return webPods{}, false
	}
	var list struct {
		Items []struct {
			Spec struct {
				Containers []struct {
					Image string `json:"image"`
				} `json:"containers"`
			} `json:"spec"`
			Status struct {
				Phase      string `json:"phase"`
				Conditions []struct {
					Type   string `json:"type"`
					Status string `json:"status"`
				} `json:"conditions"`
			} `json:"status"`
		} `json:"items"`
	}
	if json.Unmarshal([]byte(out), &list) != nil {
		return webPods{}, false
	}
	ps := webPods{images: map[string]int{}}
	for _, p := range list.Items {
		ps.images[p.Spec.Containers[0].Image]++
		if p.Status.Phase == "Running" {
			ps.running++
		}
		for _, c := range p.Status.Conditions {
			if c.Type == "Ready" && c.Status == "True" {
				ps.ready++
			}
		}
	}
	return ps, true
}
