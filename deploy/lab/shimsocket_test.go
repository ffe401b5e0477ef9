package lab

import (
	"crypto/sha256"
	"fmt"
	"testing"
)

func TestShimSocketIsNamedAsContainerdNamesIt(t *testing.T) {
	args := []string{"/usr/bin/containerd-shim-runc-v2", "-namespace", "shoal-sk-n1", "-id", "8cc1c54f-696-c",
		"-address", "/var/lib/shoal/lab/sk/containerd/containerd.sock"}
	got, ok := shimSocket(args)
	want := fmt.Sprintf("/run/containerd/s/%x", sha256.Sum256([]byte("/var/lib/shoal/lab/sk/containerd/containerd.sock/shoal-sk-n1/8cc1c54f-696-c")))
	if !ok || got != want {
		t.Fatalf("shimSocket = %q, %v; want %q", got, ok, want)
	}
	for _, bad := range [][]string{
		{"/usr/bin/containerd", "-namespace", "x", "-id", "y", "-address", "z"},
		{"/usr/bin/containerd-shim-runc-v2", "-namespace", "x", "-address", "z"},
		nil,
	} {
		if s, ok := shimSocket(bad); ok {
			t.Errorf("shimSocket(%q) = %q, want none", bad, s)
		}
	}
}
