package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/shoal-dev/shoal/api"
)

// podDelete is how `shoal delete pod` deletes, with kubectl's flags: a
// pod bound to a live node is deleted gracefully (Terminating until its
// node has stopped it) with its own terminationGracePeriodSeconds unless
// --grace-period says otherwise; --force (or --grace-period=0) removes
// it at once; --now is a grace of 1 second. --wait returns only once the
// pod is gone.
type podDelete struct {
	grace   int
	force   bool
	now     bool
	wait    bool
	timeout time.Duration
}

func (d *podDelete) addFlags(cmd *cobra.Command) {
	cmd.Flags().IntVar(&d.grace, "grace-period", -1, "seconds a pod gets to stop (SIGTERM, then SIGKILL); -1: the pod's own terminationGracePeriodSeconds; 0 with --force: at once")
	cmd.Flags().BoolVar(&d.force, "force", false, "remove pods at once, without waiting for their node to stop them")
	cmd.Flags().BoolVar(&d.now, "now", false, "a grace period of 1 second")
	cmd.Flags().BoolVar(&d.wait, "wait", false, "wait until the pods are gone")
	cmd.Flags().DurationVar(&d.timeout, "timeout", 2*time.Minute, "with --wait, how long to wait")
}

// query is the DELETE's ?gracePeriodSeconds=, "" for the pod's own.
func (d *podDelete) query() (string, error) {
	grace := d.grace
	switch {
	case d.now && d.grace >= 0:
		return "", errors.New("--now and --grace-period cannot both be given")
	case d.now:
		grace = 1
	case d.force && grace < 0:
		grace = 0
	case grace == 0 && !d.force:
		return "", errors.New("--grace-period=0 removes pods at once, without waiting for their node: add --force to confirm")
	}
	if grace < 0 {
		return "", nil
	}
	return "?gracePeriodSeconds=" + strconv.Itoa(grace), nil
}

func (d *podDelete) deletePod(ctx context.Context, g *globalFlags, w io.Writer, ns, name string) error {
	q, err := d.query()
	if err != nil {
		return err
	}
	var cur api.Pod
	if err := g.client().do(ctx, http.MethodDelete, podPath(ns, name)+q, nil, "", &cur); err != nil {
		return fmt.Errorf("delete pod %s: %w", name, err)
	}
	if !d.wait {
		fmt.Fprintf(w, "pod %q deleted\n", name)
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	for {
		var p api.Pod
		err := g.client().getJSON(ctx, podPath(ns, name), &p)
		var ae *apiError
		if errors.As(err, &ae) && ae.Status.Code == http.StatusNotFound || err == nil && p.ObjectMeta.UID != cur.ObjectMeta.UID {
			fmt.Fprintf(w, "pod %q deleted\n", name)
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pod %s: still there after %s (Terminating: its node stops it within its grace period)", name, d.timeout)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
