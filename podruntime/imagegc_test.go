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

// unmarkImported makes an imported image look pulled, which garbage
// collection may take.
func unmarkImported(t *testing.T, r *Runtime, name string) {
	t.Helper()
	ctx := r.withNS(context.Background())
	img, err := r.client.ImageService().Get(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	delete(img.Labels, labelImported)
	if _, err := r.client.ImageService().Update(ctx, img, "labels."+labelImported); err != nil {
		t.Fatal(err)
	}
}

func TestImageGCRemovesUnusedPulledImagesOldestFirstNeverOneInUseOrImported(t *testing.T) {
	r := newTestRuntime(t)
	ctx := context.Background()
	for _, ref := range []string{"shoal.test/extra:1", "shoal.test/kept:1"} {
		var buf bytes.Buffer
		if err := ociarchive.BuildBusybox(&buf, ref, "/bin/busybox"); err != nil {
			t.Fatal(err)
		}
		if _, err := r.ImportImage(ctx, &buf); err != nil {
			t.Fatal(err)
		}
	}
	unmarkImported(t, r, imageV2)
	unmarkImported(t, r, "shoal.test/extra:1")
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
	if err != nil || len(removed) != 1 || removed[0] == imageV1 || removed[0] == "shoal.test/kept:1" {
		t.Fatalf("removed %v, %v; want one image, neither the one in use nor an imported one", removed, err)
	}
	// With a low mark no disk reaches, every pulled unused image goes.
	if _, err := r.GarbageCollectImages(ctx, ImageGCPolicy{Disk: disk, HighPercent: 0, LowPercent: -1}); err != nil {
		t.Fatal(err)
	}
	left, _ := r.ListImages(ctx)
	sort.Strings(left)
	if len(left) != 2 || left[0] != imageV1 || left[1] != "shoal.test/kept:1" {
		t.Fatalf("images left %v, want only %s (in use) and the imported shoal.test/kept:1", left, imageV1)
	}
	if _, err := r.RemoveImage(ctx, "busybox"); !errors.Is(err, ErrImageInUse) {
		t.Fatalf("RemoveImage of the image in use: %v, want ErrImageInUse", err)
	}
	if err := r.RemovePod(ctx, string(pod.ObjectMeta.UID)); err != nil {
		t.Fatal(err)
	}
	if name, err := r.RemoveImage(ctx, "busybox"); err != nil || name != imageV1 {
		t.Fatalf("RemoveImage after the pod went: %q, %v", name, err)
	}
	if _, err := r.RemoveImage(ctx, "busybox"); !IsImageNotPresent(err) {
		t.Fatalf("RemoveImage of a missing image: %v, want not present", err)
	}
	if _, err := r.RemoveImage(ctx, "shoal.test/kept:1"); err != nil {
		t.Fatalf("RemoveImage of an imported image: %v", err)
	}
}
