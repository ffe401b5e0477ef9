package lab

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/content"
	"github.com/containerd/containerd/images"
	"github.com/containerd/containerd/leases"
	"github.com/containerd/containerd/namespaces"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// startSharedContainerd runs a containerd that plays the host's, outside
// any lab, stopped when the test ends.
func startSharedContainerd(t *testing.T, ctx context.Context) string {
	t.Helper()
	p := ownContainerd(shortStateRoot(t))
	pid, err := startContainerd(ctx, p)
	t.Cleanup(func() {
		_ = stopProcesses(context.Background(), processesMentioningDir(p.dir), 5*time.Second)
		_ = unmountUnder(p.dir)
	})
	if err != nil {
		t.Fatalf("start containerd (pid %d): %v", pid, err)
	}
	return p.socket
}

// fillNamespace puts a container, a lease, and an image with its blob into
// containerd namespace ns.
func fillNamespace(t *testing.T, client *containerd.Client, ns string) {
	t.Helper()
	ctx := namespaces.WithNamespace(context.Background(), ns)
	if _, err := client.NewContainer(ctx, "c1", containerd.WithNewSpec()); err != nil {
		t.Fatalf("%s: container: %v", ns, err)
	}
	if _, err := client.LeasesService().Create(ctx, leases.WithRandomID()); err != nil {
		t.Fatalf("%s: lease: %v", ns, err)
	}
	blob := []byte(`{"schemaVersion":2}`)
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(blob), Size: int64(len(blob))}
	if err := content.WriteBlob(ctx, client.ContentStore(), "blob", bytes.NewReader(blob), desc); err != nil {
		t.Fatalf("%s: blob: %v", ns, err)
	}
	if _, err := client.ImageService().Create(ctx, images.Image{Name: "example.test/img:1", Target: desc}); err != nil {
		t.Fatalf("%s: image: %v", ns, err)
	}
}

func TestDownEmptiesOnlyThisLabsNamespacesInSharedContainerd(t *testing.T) {
	requireRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	addr := startSharedContainerd(t, ctx)
	agent := buildFakeAgent(t)
	root := shortStateRoot(t)
	name := uniqueName(t)
	downOnCleanup(t, root, name)
	l, err := Up(ctx, Config{Name: name, Nodes: 2, StateRoot: root, AgentBinary: agent, Containerd: addr, ReadyTimeout: time.Minute})
	if err != nil {
		t.Fatalf("Up: %v", err)
	}
	if l.OwnContainerd || l.ContainerdPID != 0 || l.Containerd != addr {
		t.Errorf("lab claims the shared containerd: %+v", l)
	}

	client, err := containerd.New(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	mine := []string{containerdNS(name, "n1"), containerdNS(name, "n2")}
	neighbour := "shoal-" + name + "x-n1" // another lab whose name extends ours
	for _, ns := range append(mine, neighbour) {
		fillNamespace(t, client, ns)
	}

	if err := Down(ctx, root, name); err != nil {
		t.Fatalf("Down: %v", err)
	}
	left, err := client.NamespaceService().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range mine {
		if slices.Contains(left, ns) {
			t.Errorf("containerd namespace %s left behind", ns)
		}
	}
	if !slices.Contains(left, neighbour) {
		t.Errorf("Down removed %s, which belongs to another lab", neighbour)
	}
	if !alive(pidOfSocket(addr)) {
		t.Error("Down stopped a containerd the lab did not start")
	}
	assertGone(t, root, name, nil)
}

// pidOfSocket finds the containerd serving addr.
func pidOfSocket(addr string) int {
	for _, pid := range allPIDs() {
		if mentionsDir(pid, filepath.Dir(addr)) {
			return pid
		}
	}
	return 0
}
