package podruntime

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// fakeTokens hands out numbered tokens and knows the ServiceAccounts
// given to it.
type fakeTokens struct {
	mu       sync.Mutex
	n        int
	lifetime time.Duration
	sas      map[string]*api.ServiceAccount
}

func (f *fakeTokens) ServiceAccount(_ context.Context, ns, name string) (*api.ServiceAccount, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sas[ns+"/"+name], nil
}

func (f *fakeTokens) ServiceAccountToken(_ context.Context, ns, name, pod string, _ api.UID, _ int64) (string, time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	return fmt.Sprintf("token-%d-%s-%s-%s", f.n, ns, name, pod), time.Now().Add(f.lifetime), nil
}

// A container finds its token, ca.crt and namespace at the kubelet's path,
// read-only, and KUBERNETES_SERVICE_HOST/PORT in its environment; the
// token is replaced once 80% of its life has passed; a pod (or its
// ServiceAccount) that says no gets no files, and a missing ServiceAccount
// holds the containers back.
func TestServiceAccountTokenIsMountedAndRotated(t *testing.T) {
	toks := &fakeTokens{lifetime: time.Hour, sas: map[string]*api.ServiceAccount{
		"default/default": {ObjectMeta: api.ObjectMeta{Name: "default"}}}}
	var now time.Time
	var nowMu sync.Mutex
	r := newTestRuntime(t, func(c *Config) {
		c.API = &APIAccess{Tokens: toks, ServiceHost: "10.96.0.1", ServicePort: 443, RootCA: []byte("CA PEM\n")}
	})
	nowMu.Lock()
	now = time.Now()
	nowMu.Unlock()
	r.now = func() time.Time { nowMu.Lock(); defer nowMu.Unlock(); return now }
	c := shell("app", imageV1, `d=/var/run/secrets/kubernetes.io/serviceaccount
		echo "ns=$(cat $d/namespace) ca=$(cat $d/ca.crt) host=$KUBERNETES_SERVICE_HOST port=$KUBERNETES_SERVICE_PORT"
		if (echo x > $d/new) 2>/dev/null; then echo WRITABLE; fi
		while true; do echo "token=$(cat $d/token)"; sleep 0.2; done`)
	pod := newPod(t, "sapod", api.RestartAlways, c)
	pod.Spec.ServiceAccountName = "default"
	syncUntil(t, r, pod, "", "running", func(st api.PodStatus) bool { return running(st, "app") })
	logPath := r.LogPath(string(pod.ObjectMeta.UID), "app")
	log := waitLog(t, logPath, "token=token-1-default-default-sapod")
	if !strings.Contains(log, "ns=default ca=CA PEM host=10.96.0.1 port=443\n") || strings.Contains(log, "WRITABLE") {
		t.Fatalf("log %q: want namespace, CA, the Service's address and a read-only directory", log)
	}
	// Not yet due: the same token.
	nowMu.Lock()
	now = now.Add(30 * time.Minute)
	nowMu.Unlock()
	syncUntil(t, r, pod, "", "running", func(st api.PodStatus) bool { return running(st, "app") })
	toks.mu.Lock()
	n := toks.n
	toks.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d tokens requested before the first was due, want 1", n)
	}
	nowMu.Lock()
	now = now.Add(20 * time.Minute)
	nowMu.Unlock()
	syncUntil(t, r, pod, "", "running", func(st api.PodStatus) bool { return running(st, "app") })
	waitLog(t, logPath, "token=token-2-default-default-sapod")

	no := false
	off := newPod(t, "notoken", api.RestartAlways, shell("app", imageV1, `ls /var/run/secrets/kubernetes.io/serviceaccount 2>&1 | head -1; sleep 600`))
	off.Spec.AutomountServiceAccountToken = &no
	syncUntil(t, r, off, "", "running", func(st api.PodStatus) bool { return running(st, "app") })
	if l := waitLog(t, r.LogPath(string(off.ObjectMeta.UID), "app"), "No such file"); !strings.Contains(l, "No such file") {
		t.Fatalf("a pod without automount sees %q", l)
	}

	// A pod that has its token keeps it, and runs on, when its
	// ServiceAccount cannot be read: an agent restarted while cut off
	// reads a state that may not hold it yet (chaos, session 20).
	toks.mu.Lock()
	delete(toks.sas, "default/default")
	toks.mu.Unlock()
	syncUntil(t, r, pod, "", "running with its ServiceAccount not found", func(st api.PodStatus) bool { return running(st, "app") })
	toks.mu.Lock()
	toks.sas["default/default"] = &api.ServiceAccount{ObjectMeta: api.ObjectMeta{Name: "default"}}
	toks.mu.Unlock()

	missing := newPod(t, "nosa", api.RestartAlways, shell("app", imageV1, "sleep 600"))
	missing.Spec.ServiceAccountName = "robot"
	if err := r.SyncPod(t.Context(), missing, ""); err == nil || !strings.Contains(err.Error(), `serviceaccount "robot" not found`) {
		t.Fatalf("sync of a pod whose ServiceAccount is missing: %v", err)
	}
	toks.mu.Lock()
	toks.sas["default/robot"] = &api.ServiceAccount{ObjectMeta: api.ObjectMeta{Name: "robot"}, AutomountServiceAccountToken: &no}
	toks.mu.Unlock()
	syncUntil(t, r, missing, "", "running once the ServiceAccount exists", func(st api.PodStatus) bool { return running(st, "app") })
	if _, err := os.Stat(r.emptyDirPath(string(missing.ObjectMeta.UID), saVolume)); !os.IsNotExist(err) {
		t.Errorf("a ServiceAccount that says no still got files: %v", err)
	}
	for _, p := range []*api.Pod{pod, off, missing} {
		if err := r.RemovePod(t.Context(), string(p.ObjectMeta.UID)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(r.emptyDirPath(string(pod.ObjectMeta.UID), saVolume)); !os.IsNotExist(err) {
		t.Errorf("token files survived their pod: %v", err)
	}
}
