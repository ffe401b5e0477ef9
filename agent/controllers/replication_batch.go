package controllers

import (
	"cmp"
	"context"
	"sync"
	"time"

	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/uuid"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// podsPerEntry bounds one CreatePods entry: a replica is a pod from the
// template, a kilobyte or two of JSON, so an entry stays under a megabyte.
const podsPerEntry = 500

// createReplicas makes n replicas of ctrl as CreatePods entries of up to
// podsPerEntry, side by side (parallel.go), all applied before it returns
// so the next pass counts every pod made here. One entry where there was
// one per pod: each entry wakes every reader of the state, and 1,000
// replicas were 1,000 of them. A name that clashes (AlreadyExists) is
// skipped, the next pass makes that replica; any other refusal is
// returned, after the others are made.
func (l *Leader) createReplicas(ctx context.Context, ctrl api.Replicated, n int) (int, error) {
	meta := api.MetaOf(ctrl)
	var (
		mu        sync.Mutex
		created   int
		createErr error
	)
	chunks := (n + podsPerEntry - 1) / podsPerEntry
	sideBySide(chunks, leaderWrites, func(c int) {
		now := time.Now().UTC()
		cmd := consensus.CreatePods{Pods: make([]consensus.CreatePod, min(n, (c+1)*podsPerEntry)-c*podsPerEntry)}
		for i := range cmd.Pods {
			p := api.PodFromTemplate(ctrl)
			p.ObjectMeta.Name = meta.Name + "-" + utilrand.String(5)
			cmd.Pods[i] = consensus.CreatePod{Pod: *p, UID: uuid.NewUUID(), Time: now}
		}
		res, err := l.seat.Apply(ctx, cmd)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			createErr = cmp.Or(createErr, err)
			return
		}
		for i, err := range res.Each {
			switch {
			case consensus.IsAlreadyExists(err):
				// a clash of suffixes; the next pass makes it
			case err != nil:
				createErr = cmp.Or(createErr, err)
			default:
				created++
				l.log.Info("created replica", "owner", meta.Name, "pod", cmd.Pods[i].Pod.ObjectMeta.Name)
			}
		}
	})
	return created, createErr
}
