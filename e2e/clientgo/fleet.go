package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/client-go/util/retry"
)

// runFleet is what operators and controllers are made of, with client-go
// exactly as it comes (protobuf bodies, watch-list informers): an
// informer syncs and follows, a typed clientset writes, concurrent
// get-modify-update loops resolve their conflicts, two candidates elect a
// leader on a Lease and hand over; after "pause" and a line on stdin the
// same clientset, informer and loops do it again.
func runFleet(ctx context.Context, kubeconfig string, in io.Reader, out io.Writer) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("load kubeconfig: %w", err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	seen := &podLabels{m: map[string]map[string]string{}}
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace("default"))
	inf := factory.Core().V1().Pods().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: seen.record, UpdateFunc: func(_, n any) { seen.record(n) }}); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	syncCtx, syncCancel := context.WithTimeout(ctx, time.Minute)
	defer syncCancel()
	if !cache.WaitForCacheSync(syncCtx.Done(), inf.HasSynced) {
		return errors.New("the pod informer at client-go's defaults never synced")
	}
	fmt.Fprintln(out, "informer synced")

	pods := cs.CoreV1().Pods("default")
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "cg", Labels: map[string]string{"app": "cg"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "shoal.local/busybox:1", Command: []string{"sleep", "3600"}}}}}
	if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("typed create (protobuf): %w", err)
	}
	if err := seen.wait(ctx, "the created pod", "cg", func(map[string]string) bool { return true }); err != nil {
		return err
	}
	fmt.Fprintln(out, "created cg, seen by the informer")

	for round := range 2 {
		name := []string{"before", "after"}[round]
		if round == 1 {
			fmt.Fprintln(out, "pause")
			if _, err := bufio.NewReader(in).ReadString('\n'); err != nil {
				return fmt.Errorf("wait to go on: %w", err)
			}
		}
		if err := updateAll(ctx, pods, seen, name, 4); err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: 4 get-modify-update writers landed\n", name)
		if err := elect(ctx, cfg); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Fprintf(out, "%s: leader election handed over\n", name)
	}
	fmt.Fprintln(out, "done")
	return nil
}

// podLabels is what the informer saw last of each pod's labels.
type podLabels struct {
	mu sync.Mutex
	m  map[string]map[string]string
}

func (s *podLabels) record(obj any) {
	if p, ok := obj.(*corev1.Pod); ok {
		s.mu.Lock()
		s.m[p.Name] = p.Labels
		s.mu.Unlock()
	}
}

// wait polls until the informer has seen pod with labels ok says yes to.
func (s *podLabels) wait(ctx context.Context, what, pod string, ok func(map[string]string) bool) error {
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 90*time.Second, true, func(context.Context) (bool, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		labels, found := s.m[pod]
		return found && ok(labels), nil
	})
	if err != nil {
		return fmt.Errorf("the informer never saw %s: %w", what, err)
	}
	return nil
}

// updateAll runs writers get-modify-update loops on pod cg at once: each
// conflict is retried on a fresh read, and every writer's label lands.
func updateAll(ctx context.Context, pods podClient, seen *podLabels, round string, writers int) error {
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Go(func() {
			errs <- retry.OnError(failoverBackoff, retryable, func() error {
				p, err := pods.Get(ctx, "cg", metav1.GetOptions{})
				if err != nil {
					return err
				}
				p.Labels[fmt.Sprintf("%s-w%d", round, i)] = "yes"
				_, err = pods.Update(ctx, p, metav1.UpdateOptions{})
				return err
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return fmt.Errorf("%s: get-modify-update: %w", round, err)
		}
	}
	return seen.wait(ctx, round+"'s labels", "cg", func(l map[string]string) bool {
		for i := range writers {
			if l[fmt.Sprintf("%s-w%d", round, i)] != "yes" {
				return false
			}
		}
		return true
	})
}

// podClient is the part of the typed pods client updateAll uses.
type podClient interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (*corev1.Pod, error)
	Update(ctx context.Context, pod *corev1.Pod, opts metav1.UpdateOptions) (*corev1.Pod, error)
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
func elect(ctx context.Context, cfg *rest.Config) error {
	name := fmt.Sprintf("cg-election-%d", time.Now().UnixNano())
	started := make(chan string, 2)
	failed := make(chan error, 2)
	run := func(ctx context.Context, id string) {
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			failed <- err
			return
		}
		lock, err := resourcelock.New(resourcelock.LeasesResourceLock, "default", name, nil,
			cs.CoordinationV1(), resourcelock.ResourceLockConfig{Identity: id})
		if err != nil {
			failed <- err
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
	waitFor := func(want string) error {
		select {
		case got := <-started:
			if got != want {
				return fmt.Errorf("%s leads, want %s", got, want)
			}
			return nil
		case err := <-failed:
			return err
		case <-time.After(90 * time.Second):
			return fmt.Errorf("%s never led on Lease %s", want, name)
		}
	}
	actx, acancel := context.WithCancel(ctx)
	defer acancel()
	go run(actx, "a")
	if err := waitFor("a"); err != nil {
		return err
	}
	bctx, bcancel := context.WithCancel(ctx)
	defer bcancel()
	go run(bctx, "b")
	acancel()
	return waitFor("b")
}
