// Command clientgo is an unchanged client-go program, built in its own
// module as an operator's would be, that the e2e tests run against a lab.
//
// In fleet mode (-kubeconfig) it syncs a pod informer, writes through a
// typed clientset at client-go's defaults, resolves concurrent
// get-modify-update conflicts with retries and elects a leader on a Lease;
// then it prints "pause" and waits for a line on stdin (the test kills
// the Raft leader meanwhile) and does it all again.
//
// In in-cluster mode (-in-cluster) it runs as a pod with
// rest.InClusterConfig(), lists and watches the pods of its namespace
// through the kubernetes Service and logs every list and watch event, so
// a test can read from the pod's log that it keeps going.
//
// Progress goes to stdout one line per step; a failure exits non-zero.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "fleet mode: the kubeconfig to use")
	inCluster := flag.Bool("in-cluster", false, "in-cluster mode: list and watch pods with rest.InClusterConfig()")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch {
	case *inCluster:
		err = runInCluster(ctx, os.Stdout)
	case *kubeconfig != "":
		err = runFleet(ctx, *kubeconfig, os.Stdin, os.Stdout)
	default:
		err = fmt.Errorf("give -kubeconfig FILE or -in-cluster")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "clientgo:", err)
		os.Exit(1)
	}
}
