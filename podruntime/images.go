package podruntime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"
	"github.com/distribution/reference"
)

// errImageNotPresent: the image is not in this node's store (yet).
var errImageNotPresent = errors.New("image not present on node")

// labelImported marks an image that came from an archive, not a registry.
const labelImported = "io.shoal.image.imported"

// ImportImage reads an OCI or docker image archive into this node's
// namespace, unpacks it for the default snapshotter and returns the image
// names it held.
func (r *Runtime) ImportImage(ctx context.Context, archive io.Reader) ([]string, error) {
	ctx = r.withNS(ctx)
	imgs, err := r.client.Import(ctx, archive)
	if err != nil {
		return nil, fmt.Errorf("import image archive: %w", err)
	}
	names := make([]string, 0, len(imgs))
	for _, i := range imgs {
		img := containerd.NewImage(r.client, i)
		if err := img.Unpack(ctx, containerd.DefaultSnapshotter); err != nil {
			return nil, fmt.Errorf("unpack image %s: %w", i.Name, err)
		}
		// An imported image may exist nowhere else: garbage collection
		// leaves it alone (a pull of the same name clears the mark).
		if i.Labels == nil {
			i.Labels = map[string]string{}
		}
		i.Labels[labelImported] = "true"
		if _, err := r.client.ImageService().Update(ctx, i, "labels."+labelImported); err != nil {
			return nil, fmt.Errorf("mark image %s imported: %w", i.Name, err)
		}
		names = append(names, i.Name)
		r.log.Info("image imported", "image", i.Name, "digest", i.Target.Digest.String())
	}
	return names, nil
}

// ListImages returns the names of the images in this node's namespace.
func (r *Runtime) ListImages(ctx context.Context) ([]string, error) {
	imgs, err := r.client.ListImages(r.withNS(ctx))
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	names := make([]string, 0, len(imgs))
	for _, i := range imgs {
		names = append(names, i.Name())
	}
	sort.Strings(names)
	return names, nil
}

// resolveImage finds a pod's image by the name as written, then by its
// normalised form ("busybox" is docker.io/library/busybox:latest), so a
// manifest written for Kubernetes finds an imported image.
func (r *Runtime) resolveImage(ctx context.Context, ref string) (containerd.Image, error) {
	candidates := []string{ref}
	if named, err := reference.ParseDockerRef(ref); err == nil && named.String() != ref {
		candidates = append(candidates, named.String())
	}
	for _, name := range candidates {
		img, err := r.client.GetImage(ctx, name)
		if err == nil {
			return img, nil
		}
		if !errdefs.IsNotFound(err) {
			return nil, fmt.Errorf("look up image %s: %w", name, err)
		}
	}
	return nil, fmt.Errorf("image %q: %w", ref, errImageNotPresent)
}
