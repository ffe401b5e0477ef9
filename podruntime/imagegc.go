package podruntime

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/images"
	"golang.org/x/sys/unix"
)

// DiskUsage reports how full the filesystem holding the images is.
type DiskUsage interface {
	UsedPercent(ctx context.Context) (float64, error)
}

// StatfsUsage is DiskUsage of the filesystem at a path (containerd's root,
// /var/lib/containerd by default), as df counts it.
type StatfsUsage string

// UsedPercent implements DiskUsage.
func (p StatfsUsage) UsedPercent(context.Context) (float64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(string(p), &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", string(p), err)
	}
	total := float64(st.Blocks)
	if total == 0 {
		return 0, nil
	}
	// Blocks minus free-for-root is what is used; against what a user may
	// have (used + available), as df's Use% does.
	used := float64(st.Blocks - st.Bfree)
	return 100 * used / (used + float64(st.Bavail)), nil
}

// ImageGCPolicy says when images go: once the disk is HighPercent full,
// the least recently pulled or imported unused images are removed until it
// is below LowPercent (the kubelet's image-gc-high/low-threshold).
type ImageGCPolicy struct {
	Disk        DiskUsage
	HighPercent float64
	LowPercent  float64
}

// ErrImageInUse: a container of a pod on this node was made from the image.
var ErrImageInUse = errors.New("image is used by a container on this node")

// imagesInUse names the images containers of this node were made from, and
// those being pulled.
func (r *Runtime) imagesInUse(ctx context.Context) (map[string]bool, error) {
	conts, err := r.client.Containers(ctx)
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	used := map[string]bool{}
	for _, c := range conts {
		info, err := c.Info(ctx)
		if errdefs.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("container %s: %w", c.ID(), err)
		}
		used[info.Image] = true
	}
	r.pulls.mu.Lock()
	for _, j := range r.pulls.jobs {
		used[j.ref] = true
	}
	r.pulls.mu.Unlock()
	return used, nil
}

// GarbageCollectImages removes unused images, oldest first, while the disk
// is above the policy's high mark and until it is below the low mark. An
// image a container on this node was made from is never removed, nor one
// imported from an archive: a fleet with no registry could not get it back
// (shoal image rm removes those). It returns the names removed.
func (r *Runtime) GarbageCollectImages(ctx context.Context, p ImageGCPolicy) ([]string, error) {
	pct, err := p.Disk.UsedPercent(ctx)
	if err != nil {
		return nil, err
	}
	if pct < p.HighPercent {
		return nil, nil
	}
	ctx = r.withNS(ctx)
	r.imageUse.Lock()
	defer r.imageUse.Unlock()
	is := r.client.ImageService()
	all, err := is.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	used, err := r.imagesInUse(ctx)
	if err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool {
		if !all[i].UpdatedAt.Equal(all[j].UpdatedAt) {
			return all[i].UpdatedAt.Before(all[j].UpdatedAt)
		}
		return all[i].Name < all[j].Name
	})
	var removed []string
	for _, img := range all {
		if pct < p.LowPercent {
			break
		}
		if used[img.Name] || img.Labels[labelImported] == "true" {
			continue
		}
		if err := is.Delete(ctx, img.Name, images.SynchronousDelete()); err != nil && !errdefs.IsNotFound(err) {
			return removed, fmt.Errorf("remove image %s: %w", img.Name, err)
		}
		removed = append(removed, img.Name)
		r.log.Info("image removed by garbage collection", "image", img.Name, "diskUsedPercent", pct)
		if pct, err = p.Disk.UsedPercent(ctx); err != nil {
			return removed, err
		}
	}
	return removed, nil
}

// RemoveImage removes one image by the name given (or its normalised
// form), unless a container on this node was made from it.
func (r *Runtime) RemoveImage(ctx context.Context, ref string) (string, error) {
	ctx = r.withNS(ctx)
	r.imageUse.Lock()
	defer r.imageUse.Unlock()
	img, err := r.resolveImage(ctx, ref)
	if err != nil {
		return "", err
	}
	used, err := r.imagesInUse(ctx)
	if err != nil {
		return "", err
	}
	if used[img.Name()] {
		return "", fmt.Errorf("image %s: %w", img.Name(), ErrImageInUse)
	}
	if err := r.client.ImageService().Delete(ctx, img.Name(), images.SynchronousDelete()); err != nil {
		return "", fmt.Errorf("remove image %s: %w", img.Name(), err)
	}
	r.log.Info("image removed", "image", img.Name())
	return img.Name(), nil
}

// IsImageNotPresent tells whether err says an image is not on this node.
func IsImageNotPresent(err error) bool { return errors.Is(err, errImageNotPresent) }
