package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/api"
)

// The pods the lab benchmarks measure between: a bench/netbench server
// (label app=nb, for a Service) on n2 and its client on n3.
const netbenchPods = `apiVersion: v1
kind: Pod
metadata: {name: nbsrv, labels: {app: nb}}
spec:
  nodeName: n2
  containers:
  - name: c
    image: shoal.local/netbench:1
    command: ["/bin/busybox", "serve", ":5201"]
---
apiVersion: v1
kind: Pod
metadata: {name: nbcli}
spec:
  nodeName: n3
  containers:
  - name: c
    image: shoal.local/netbench:1
    command: ["/bin/busybox", "sleep"]
`

// startNetbenchLab starts a 3-node lab named name with the netbench image
// and netbenchPods, plus extra manifests applied with them (which may run
// the test image: it is imported for them), waits for both pods to run
// and returns the fleet, the server pod and the tool.
func startNetbenchLab(t *testing.T, name, extra string) (*fleet, *api.Pod, string) {
	t.Helper()
	tool, archive := netbenchImage(t, "shoal.local/netbench:1")
	f := startFleet(t, name, "--nodes", "3")
	f.run("image", "import", archive)
	manifests := netbenchPods
	if extra != "" {
		f.importBusybox()
		manifests += "---\n" + extra
	}
	f.apply(manifests)
	srv := f.waitPod("nbsrv", "Running", running)
	f.waitPod("nbcli", "Running", running)
	return f, srv, tool
}

// netbench runs the tool in the client pod nbcli and reads its JSON.
func (f *fleet) netbench(args ...string) (map[string]float64, error) {
	out, err := f.try(append([]string{"exec", "nbcli", "--", "/bin/busybox"}, args...)...)
	if err != nil {
		return nil, err
	}
	return toolOutput(out)
}

// toolOutput is netbench's result: the JSON object on its last line.
func toolOutput(out string) (map[string]float64, error) {
	var m map[string]float64
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &m); err != nil {
		return nil, fmt.Errorf("netbench output %q: %w", out, err)
	}
	return m, nil
}

func parseTool(t *testing.T, out string) map[string]float64 {
	t.Helper()
	m, err := toolOutput(out)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
