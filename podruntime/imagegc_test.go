package podruntime

import (
	"bytes"
	"context"
	"errors"
	"sort"
	"testing"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/podruntime/ociarchive"
)

// imageCountDisk is a disk that is perImage percent full per image in the
// runtime's store, so removing images frees it as a real one would.
type imageCountDisk struct {
	r        *Runtime
	perImage float64
}

func (d imageCountDisk) UsedPercent(ctx context.Context) (float64, error) {
	names, err := d.r.ListImages(ctx)
	return d.perImage * float64(len(names)), err
}

func TestImageGCRemovesUnusedImagesOldestFirstAndNeverOneInUse(t *testing.T) {
	r := newTestRuntime(t)
	ctx := context.Background()
	var buf bytes.Buffer
	if err := ociarchive.BuildBusybox(&buf, "shoal.test/extra:1", "/bin/busybox"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ImportImage(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	pod := newPod(t, "keeper", api.RestartAlways, shell("main", imageV1, "exec sleep 1000"))
	syncUntil(t, r, pod, "", "Running", func(st api.PodStatus) bool { return running(st, "main") })
	names, err := r.ListImages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	disk := imageCountDisk{r: r, perImage: 100 / float64(len(names))} // full

	// Below the high mark nothing goes.
	if removed, err := r.GarbageCollectImages(ctx, ImageGCPolicy{Disk: disk, HighPercent: 101, LowPercent: 50}); err != nil || len(removed) != 0 {
		t.Fatalf("below the high mark: removed %v, %v", removed, err)
	}
	// Above it, images go until the disk is below the low mark: one here.
	low := 100 - disk.perImage/2
	removed, err := r.GarbageCollectImages(ctx, ImageGCPolicy{Disk: disk, HighPercent: 90, LowPercent: low})
	if err != nil || len(removed) != 1 || removed[0] == imageV1 {
		t.Fatalf("removed %v, %v; want one image, not the one in use", removed, err)
	}
	// With a low mark no disk reaches, every unused image goes, never the one in use.
	if _, err := r.GarbageCollectImages(ctx, ImageGCPolicy{Disk: disk, HighPercent: 0, LowPercent: -1}); err != nil {
		t.Fatal(err)
	}
	left, _ := r.ListImages(ctx)
	sort.Strings(left)
	if len(left) != 1 || left[0] != imageV1 {
		t.Fatalf("images left %v, want only %s (in use)", left, imageV1)
	}
	if _, err := r.RemoveImage(ctx, "busybox"); !errors.Is(err, ErrImageInUse) {
		t.Fatalf("RemoveImage of the image in use: %v, want ErrImageInUse", err)
	}
	if err := r.RemovePod(ctx, pod.Metadata.UID); err != nil {
		t.Fatal(err)
	}
	if name, err := r.RemoveImage(ctx, "busybox"); err != nil || name != imageV1 {
		t.Fatalf("RemoveImage after the pod went: %q, %v", name, err)
	}
	if _, err := r.RemoveImage(ctx, "busybox"); !IsImageNotPresent(err) {
		t.Fatalf("RemoveImage of a missing image: %v, want not present", err)
	}
}
