package apiserver

import (
	"strings"
	"testing"
)

// kubectl attach through the machine's kubectl: the container's output
// from now on (here the fake runtime's, which then ends as an exited
// container's does), and attach -i refused by name.
func TestKubectlAttachShowsTheOutputAndRefusesStdin(t *testing.T) {
	base := boundPodAPI(t, logRuntime{chunks: []string{"tick 1\n", "tick 2\n"}})
	run, _ := kubectlAgainst(t, base)
	if out, err := run("attach", "web", "-c", "main"); err != nil || !strings.Contains(out, "tick 1\ntick 2\n") {
		t.Errorf("attach: %v\n%s", err, out)
	}
	if out, err := run("attach", "-i", "web", "-c", "main"); err == nil || !strings.Contains(out, "stdin") {
		t.Errorf("attach -i: %v\n%s", err, out)
	}
}
