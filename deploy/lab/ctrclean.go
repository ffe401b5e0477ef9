package lab

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/content"
	"github.com/containerd/containerd/images"
	"github.com/containerd/containerd/leases"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/snapshots"
)

// cleanContainerd deletes everything in the containerd namespaces of lab
// name (tasks, containers, images, leases, snapshots, content) and then the
// namespaces themselves. Best effort: it goes on after an error.
func cleanContainerd(ctx context.Context, addr, name string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	client, err := containerd.New(addr, containerd.WithTimeout(5*time.Second))
	if err != nil {
		return fmt.Errorf("connect containerd %s: %w", addr, err)
	}
	defer client.Close()
	all, err := client.NamespaceService().List(ctx)
	if err != nil {
		return fmt.Errorf("list containerd namespaces at %s: %w", addr, err)
	}
	owned := ownedContainerdNSRE(name)
	var errs []error
	for _, ns := range all {
		if !owned.MatchString(ns) {
			continue
		}
		if err := cleanContainerdNamespace(namespaces.WithNamespace(ctx, ns), client); err != nil {
			errs = append(errs, fmt.Errorf("containerd namespace %s: %w", ns, err))
		}
	}
	return errors.Join(errs...)
}

// containerDeleteWorkers bounds the containers deleted at once.
const containerDeleteWorkers = 16

func cleanContainerdNamespace(ctx context.Context, client *containerd.Client) error {
	var errs []error
	note := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	ctrs, err := client.Containers(ctx)
	note(err)
	// Killing a task waits for its exit: one by one, a node with a few
	// hundred pods would outlast the whole clean-up's deadline (the load
	// test's 1,000 pods did), so several go at once.
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, containerDeleteWorkers)
	for _, c := range ctrs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			var err error
			if task, terr := c.Task(ctx, nil); terr == nil {
				if _, derr := task.Delete(ctx, containerd.WithProcessKill); derr != nil {
					err = fmt.Errorf("delete task %s: %w", c.ID(), derr)
				}
			}
			if derr := c.Delete(ctx, containerd.WithSnapshotCleanup); derr != nil {
				err = errors.Join(err, fmt.Errorf("delete container %s: %w", c.ID(), derr))
			}
			mu.Lock()
			note(err)
			mu.Unlock()
		}()
	}
	wg.Wait()

	imgs, err := client.ImageService().List(ctx)
	note(err)
	for _, img := range imgs {
		if err := client.ImageService().Delete(ctx, img.Name, images.SynchronousDelete()); err != nil {
			note(fmt.Errorf("delete image %s: %w", img.Name, err))
		}
	}

	ls, err := client.LeasesService().List(ctx)
	note(err)
	for _, l := range ls {
		if err := client.LeasesService().Delete(ctx, l, leases.SynchronousDelete); err != nil {
			note(fmt.Errorf("delete lease %s: %w", l.ID, err))
		}
	}

	for _, sn := range snapshotters(ctx, client) {
		note(removeSnapshots(ctx, client.SnapshotService(sn)))
	}

	var digests []content.Info
	note(client.ContentStore().Walk(ctx, func(info content.Info) error {
		digests = append(digests, info)
		return nil
	}))
	for _, info := range digests {
		if err := client.ContentStore().Delete(ctx, info.Digest); err != nil {
			note(fmt.Errorf("delete content %s: %w", info.Digest, err))
		}
	}

	ns, _ := namespaces.Namespace(ctx)
	if err := client.NamespaceService().Delete(ctx, ns); err != nil {
		note(fmt.Errorf("delete namespace: %w", err))
	}
	return errors.Join(errs...)
}

// snapshotters names the snapshotter plugins containerd loaded.
func snapshotters(ctx context.Context, client *containerd.Client) []string {
	resp, err := client.IntrospectionService().Plugins(ctx, []string{`type=="io.containerd.snapshotter.v1"`})
	if err != nil {
		return []string{containerd.DefaultSnapshotter, "native"}
	}
	var names []string
	for _, p := range resp.Plugins {
		if p.InitErr == nil {
			names = append(names, p.ID)
		}
	}
	return names
}

// removeSnapshots removes all snapshots of one snapshotter. Parents cannot go
// before their children, so it sweeps until a sweep removes nothing.
func removeSnapshots(ctx context.Context, sn snapshots.Snapshotter) error {
	for {
		var keys []string
		if err := sn.Walk(ctx, func(_ context.Context, info snapshots.Info) error {
			keys = append(keys, info.Name)
			return nil
		}); err != nil {
			return fmt.Errorf("walk snapshots: %w", err)
		}
		if len(keys) == 0 {
			return nil
		}
		removed := 0
		var last error
		for _, k := range keys {
			if err := sn.Remove(ctx, k); err != nil {
				last = err
				continue
			}
			removed++
		}
		if removed == 0 {
			return fmt.Errorf("remove %d snapshots: %w", len(keys), last)
		}
	}
}
