package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/client-go/util/retry"

	"github.com/shoal-dev/shoal/deploy/lab"
)

// TestClientGoAtDefaults runs what operators and controllers are made of,
// with client-go exactly as it comes (protobuf bodies, watch-list
// informers), against three seats through a client agent: an informer
// syncs and follows, a typed clientset writes, concurrent
// get-modify-update loops resolve their conflicts with RetryOnConflict,
// two candidates elect a leader on a Lease and hand over, and all of it
// goes on after the Raft leader is killed.
func TestClientGoAtDefaults(t *testing.T) {
	f := startFleet(t, labName("cg"), "--nodes", "4", "--servers", "3")
	f.importBusybox()
	l, err := lab.Load(f.stateRoot, f.name)
	if err != nil {
		t.Fatal(err)
	}
	// n4 holds no seat: every request also crosses the agents' forwarding.
	client := l.Nodes[3]
	cfg, err := clientcmd.RESTConfigFromKubeConfig([]byte(f.run("kubeconfig", "--server", client.APIURL())))
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var mu sync.Mutex
	seen := map[string]map[string]string{} // pod name -> labels, as the informer saw them last
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace("default"))
	inf := factory.Core().V1().Pods().Informer()
	record := func(obj any) {
		if p, ok := obj.(*corev1.Pod); ok {
			mu.Lock()
			seen[p.Name] = p.Labels
			mu.Unlock()
		}
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: record, UpdateFunc: func(_, n any) { record(n) }}); err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	syncCtx, syncCancel := context.WithTimeout(ctx, time.Minute)
	defer syncCancel()
	if !cache.WaitForCacheSync(syncCtx.Done(), inf.HasSynced) {
		t.Fatal("the pod informer at client-go's defaults never synced")
	}
	informerHas := func(what, pod string, ok func(map[string]string) bool) {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			labels, found := seen[pod]
			mu.Unlock()
			if found && ok(labels) {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("the informer never saw %s", what)
	}

	pods := cs.CoreV1().Pods("default")
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "cg", Labels: map[string]string{"app": "cg"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: image, Command: []string{"sleep", "3600"}}}}}
	if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("typed create (protobuf): %v", err)
	}
	informerHas("the created pod", "cg", func(map[string]string) bool { return true })

	// Get-modify-update from several writers at once: each conflict is
	// retried on a fresh read, and every writer's label lands.
	updateAll := func(round string, writers int) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- retry.OnError(failoverBackoff, retryable, func() error {
					p, err := pods.Get(ctx, "cg", metav1.GetOptions{})
					if err != nil {
						return err
					}
					p.Labels[fmt.Sprintf("%s-w%d", round, i)] = "yes"
					_, err = pods.Update(ctx, p, metav1.UpdateOptions{})
					return err
				})
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("%s: get-modify-update: %v", round, err)
			}
		}
		informerHas(round+"'s labels", "cg", func(l map[string]string) bool {
			for i := range writers {
				if l[fmt.Sprintf("%s-w%d", round, i)] != "yes" {
					return false
				}
			}
			return true
		})
	}
	updateAll("before", 4)

	// Leader election on a Lease: a takes it, gives it up on cancel, b
	// takes over.
	elect(t, ctx, cfg)

	// Kill the Raft leader (never the client agent): the same clientset,
	// informer and loops carry on once the seats elect another.
	leader := f.waitLeader(nil)
	f.run("lab", "kill", f.name, leader, "--state-root", f.stateRoot)
	f.waitLeader(map[string]bool{leader: true})
	updateAll("after", 4)
	elect(t, ctx, cfg)
}

// failoverBackoff outlasts an election of a new Raft leader (about 30 s
// in all), where client-go's DefaultBackoff gives up after 1.5 s.
var failoverBackoff = wait.Backoff{Steps: 30, Duration: 100 * time.Millisecond, Factor: 1.5, Jitter: 0.1, Cap: 2 * time.Second}

// retryable is what a client retries: a conflict, or the fleet between
// two leaders (no leader yet, a forwarded write that timed out, a
// connection the dead agent cut).
func retryable(err error) bool {
	var urlErr *url.Error
	return apierrors.IsConflict(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsTimeout(err) ||
		apierrors.IsServerTimeout(err) || apierrors.IsTooManyRequests(err) || errors.As(err, &urlErr)
}

// elect runs two candidates for one Lease with client-go's leader
// election: the first leads, releases on cancel, the second takes over.
func elect(t *testing.T, ctx context.Context, cfg *rest.Config) {
	t.Helper()
	name := fmt.Sprintf("cg-election-%d", time.Now().UnixNano())
	run := func(ctx context.Context, id string, started chan<- string) {
		lock, err := resourcelock.New(resourcelock.LeasesResourceLock, "default", name, nil,
			kubernetes.NewForConfigOrDie(cfg).CoordinationV1(), resourcelock.ResourceLockConfig{Identity: id})
		if err != nil {
			t.Error(err)
			return
		}
		leaderelection.RunOrDie(ctx, leaderelection.LeaderElectionConfig{
			Lock: lock, ReleaseOnCancel: true,
			LeaseDuration: 4 * time.Second, RenewDeadline: 3 * time.Second, RetryPeriod: 500 * time.Millisecond,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(context.Context) { started <- id },
				OnStoppedLeading: func() {},
			},
		})
	}
	started := make(chan string, 2)
	actx, acancel := context.WithCancel(ctx)
	go run(actx, "a", started)
	wait := func(want string) {
		t.Helper()
		select {
		case got := <-started:
			if got != want {
				t.Fatalf("%s leads, want %s", got, want)
			}
		case <-time.After(90 * time.Second):
			t.Fatalf("%s never led on Lease %s", want, name)
		}
	}
	wait("a")
	bctx, bcancel := context.WithCancel(ctx)
	defer bcancel()
	go run(bctx, "b", started)
	acancel()
	wait("b")
}
