package agent

import (
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/shoal-dev/shoal/"

// layout is DESIGN.md's table of packages and what each may import of
// shoal's own (docs/ARCHITECTURE.md draws it): every arrow points down;
// agent/apiserver, agent/controllers and agent/node never import each
// other nor package agent; only cmd imports package agent. A package
// missing here fails the test, so a new package, or a new arrow, is
// placed in the table on purpose, not found later.
var layout = map[string][]string{
	"api":                   {"api/openapi"},
	"api/openapi":           nil,
	"api/printers":          {"api"},
	"placement":             {"api"},
	"consensus":             {"api", "placement"},
	"netplane":              {"api", "netplane/netnsdir", "netplane/nsthread"},
	"netplane/netnsdir":     nil,
	"netplane/nsthread":     nil,
	"podruntime":            {"api", "podruntime/ociarchive"},
	"podruntime/ociarchive": nil,
	"agent/apiserver":       {"api", "api/openapi", "api/printers", "placement", "consensus", "podruntime"},
	// consensus for the commands the leader applies and their errors
	// (docs/ARCHITECTURE.md, Controllers).
	"agent/controllers":   {"api", "placement", "consensus", "agent/liveness"},
	"agent/node":          {"api", "netplane", "netplane/netnsdir", "podruntime", "agent/node/svcproxy", "agent/node/dns", "agent/liveness"},
	"agent/liveness":      nil,
	"agent/node/svcproxy": {"api", "netplane/nsthread"},
	"agent/node/dns":      {"api"},
	"agent/node/hollow":   {"api", "netplane"},
	"agent":               {"agent/apiserver", "agent/controllers", "agent/node", "agent/node/svcproxy", "agent/node/dns", "agent/node/hollow", "agent/liveness", "api", "api/openapi", "api/printers", "placement", "consensus", "netplane", "netplane/netnsdir", "podruntime", "podruntime/ociarchive"},
	"deploy":              nil,
	"deploy/lab":          {"api", "deploy", "netplane/netnsdir", "netplane/nsthread"},
	"deploy/lab/chaos":    {"api", "deploy/lab"},
	"cmd/shoal":           {"agent", "api", "api/printers", "deploy", "deploy/lab", "deploy/lab/chaos", "podruntime/ociarchive"},
	"e2e":                 {"api", "deploy/lab", "deploy/lab/chaos", "podruntime/ociarchive"},
	"bench/netbench":      nil,
	"bench/report":        nil,
}

// onlyIn names third-party packages that one of shoal's packages keeps to
// itself: Raft is consensus's alone (issue 29 item 5).
var onlyIn = map[string]string{
	"github.com/hashicorp/raft": "consensus",
}

func TestImportsPointDown(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list over the module")
	}
	// Standard output alone: on a cold module cache go list also writes
	// "go: downloading ..." lines, to standard error.
	var stderr strings.Builder
	cmd := exec.Command("go", "list", "-tags", "no_dynamic_plugins", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", module+"...")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		allowed, known := layout[pkg]
		if !known {
			t.Errorf("package %s is not in the layout table (agent/layout_test.go, DESIGN.md, docs/ARCHITECTURE.md): place it on purpose", pkg)
			continue
		}
		for _, imp := range fields[1:] {
			for third, owner := range onlyIn {
				if (imp == third || strings.HasPrefix(imp, third+"/")) && pkg != owner {
					t.Errorf("%s imports %s, which only %s may", pkg, imp, owner)
				}
			}
			ours, isOurs := strings.CutPrefix(imp, module)
			if !isOurs {
				continue
			}
			if !slices.Contains(allowed, ours) {
				t.Errorf("%s imports %s: not an arrow the layout allows (it may import %s)", pkg, ours, describe(allowed))
			}
		}
	}
}

func describe(list []string) string {
	if len(list) == 0 {
		return "nothing of shoal's"
	}
	s := append([]string(nil), list...)
	sort.Strings(s)
	return strings.Join(s, ", ")
}
