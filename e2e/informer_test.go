package e2e

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/shoal-dev/shoal/deploy/lab"
)

// urlRecorder remembers the query of every watch a client sends.
type urlRecorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen []string
}

func (u *urlRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	if q := r.URL.Query(); q.Get("watch") == "true" || q.Get("watch") == "1" {
		u.mu.Lock()
		u.seen = append(u.seen, r.URL.RawQuery)
		u.mu.Unlock()
	}
	return u.next.RoundTrip(r)
}

func (u *urlRecorder) watches() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.seen...)
}

// TestClientGoInformerSyncsAndFollowsPods runs client-go's pod informer
// with its defaults (the reflector's watch-list: sendInitialEvents with
// the initial-events-end bookmark) against a fleet, through a client
// agent that forwards the watch to the server: the cache syncs, and the
// informer sees a pod added, updated (bound by the leader) and deleted.
func TestClientGoInformerSyncsAndFollowsPods(t *testing.T) {
	f := startFleet(t, labName("inf"), "--nodes", "2", "--servers", "1")
	f.importBusybox()
	l, err := lab.Load(f.stateRoot, f.name)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig([]byte(f.run("kubeconfig", "--server", l.Nodes[1].APIURL())))
	if err != nil {
		t.Fatal(err)
	}
	// shoal serves JSON; the clientset's default would ask for protobuf.
	cfg.ContentType, cfg.AcceptContentTypes = "application/json", "application/json"
	rec := &urlRecorder{}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { rec.next = rt; return rec })
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.apply(kubePod("before", "app: inf"))

	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace("default"))
	inf := factory.Core().V1().Pods().Informer()
	events := make(chan string, 100)
	note := func(what string, obj any) {
		ev := what
		if p, ok := obj.(*corev1.Pod); ok {
			ev += " " + p.Name + " " + p.Spec.NodeName
		} else if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			ev += " " + d.Key
		}
		select {
		case events <- ev:
		default: // never hold up the informer once the test stopped reading
		}
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { note("add", obj) },
		UpdateFunc: func(_, obj any) { note("update", obj) },
		DeleteFunc: func(obj any) { note("delete", obj) },
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	factory.Start(ctx.Done())
	defer func() {
		cancel() // Shutdown waits for the informers, which stop with ctx
		factory.Shutdown()
	}()
	syncCtx, syncCancel := context.WithTimeout(ctx, 60*time.Second)
	defer syncCancel()
	if !cache.WaitForCacheSync(syncCtx.Done(), inf.HasSynced) {
		t.Fatalf("the informer's cache did not sync; watches sent: %q", rec.watches())
	}
	watchList := false
	for _, q := range rec.watches() {
		watchList = watchList || strings.Contains(q, "sendInitialEvents=true")
	}
	t.Logf("watches the informer sent: %q", rec.watches())
	if !watchList {
		t.Errorf("the informer synced without a watch-list (sendInitialEvents=true); watches: %q", rec.watches())
	}

	waitEvent := func(want func(string) bool, what string) {
		t.Helper()
		deadline := time.After(90 * time.Second)
		var got []string
		for {
			select {
			case ev := <-events:
				got = append(got, ev)
				if want(ev) {
					return
				}
			case <-deadline:
				t.Fatalf("no %s; informer events: %q", what, got)
			}
		}
	}
	waitEvent(func(ev string) bool { return strings.HasPrefix(ev, "add before ") }, "add of the pod that existed before")
	f.apply(kubePod("inf", "app: inf"))
	waitEvent(func(ev string) bool { return ev == "add inf " || strings.HasPrefix(ev, "add inf ") }, "add of pod inf")
	waitEvent(func(ev string) bool { return strings.HasPrefix(ev, "update inf n") }, "update of pod inf (bound to a node)")
	f.run("delete", "pod", "inf", "--now")
	waitEvent(func(ev string) bool { return strings.HasPrefix(ev, "delete ") && strings.Contains(ev, "inf") }, "delete of pod inf")
	if _, exists, _ := inf.GetStore().GetByKey("default/inf"); exists {
		t.Error("the informer's store still holds the deleted pod")
	}
	if _, exists, _ := inf.GetStore().GetByKey("default/before"); !exists {
		t.Error("the informer's store lost the pod that existed before it started")
	}
}
