package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// namespaceFile is where Kubernetes, and shoal, tell a pod its namespace.
const namespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// runInCluster lists and watches the pods of its own namespace as a pod
// does, through the kubernetes Service with its mounted token and CA
// (rest.InClusterConfig), and writes one line per list and per watch
// event, so the pod's log shows whether it keeps going. It runs until
// ctx ends; a failed list is logged and retried, as a controller would.
func runInCluster(ctx context.Context, out io.Writer) error {
	cfg, err := rest.InClusterConfig()
	if err != nil {
		return fmt.Errorf("in-cluster config: %w", err)
	}
	ns, err := os.ReadFile(namespaceFile)
	if err != nil {
		return fmt.Errorf("own namespace: %w", err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	namespace := strings.TrimSpace(string(ns))
	logf := func(format string, args ...any) {
		fmt.Fprintf(out, "%s "+format+"\n", append([]any{time.Now().UTC().Format(time.RFC3339)}, args...)...)
	}
	logf("in-cluster: host %s namespace %s", cfg.Host, namespace)

	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(namespace))
	inf := factory.Core().V1().Pods().Informer()
	name := func(obj any) string {
		if p, ok := obj.(*corev1.Pod); ok {
			return p.Name
		}
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			return d.Key
		}
		return "?"
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { logf("watch added %s", name(obj)) },
		UpdateFunc: func(_, obj any) { logf("watch updated %s", name(obj)) },
		DeleteFunc: func(obj any) { logf("watch deleted %s", name(obj)) },
	}); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return ctx.Err()
	}
	logf("watch synced")

	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for n := 1; ; n++ {
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		pods, err := cs.CoreV1().Pods(namespace).List(lctx, metav1.ListOptions{})
		cancel()
		if err != nil {
			logf("list %d failed: %v", n, err)
		} else {
			logf("list %d: %d pods", n, len(pods.Items))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
