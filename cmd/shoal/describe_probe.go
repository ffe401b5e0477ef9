package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/shoal-dev/shoal/api"
)

// describeProbes prints a container's probes as kubectl describe does:
// "Liveness:  http-get http://:8080/ delay=15s timeout=1s period=10s #success=1 #failure=3".
func describeProbes(w io.Writer, c api.Container) {
	for _, p := range []struct {
		title string
		probe *api.Probe
	}{{"Liveness", c.LivenessProbe}, {"Readiness", c.ReadinessProbe}, {"Startup", c.StartupProbe}} {
		if p.probe == nil {
			continue
		}
		fmt.Fprintf(w, "    %s:%s%s\n", p.title, strings.Repeat(" ", 15-len(p.title)), probeLine(p.probe))
	}
}

func probeLine(p *api.Probe) string {
	var how string
	switch {
	case p.HTTPGet != nil:
		scheme := strings.ToLower(string(p.HTTPGet.Scheme))
		if scheme == "" {
			scheme = "http"
		}
		how = fmt.Sprintf("http-get %s://%s:%s%s", scheme, p.HTTPGet.Host, p.HTTPGet.Port.String(), p.HTTPGet.Path)
	case p.TCPSocket != nil:
		how = fmt.Sprintf("tcp-socket %s:%s", p.TCPSocket.Host, p.TCPSocket.Port.String())
	case p.Exec != nil:
		how = fmt.Sprintf("exec %v", p.Exec.Command)
	default:
		how = "unknown"
	}
	return fmt.Sprintf("%s delay=%ds timeout=%ds period=%ds #success=%d #failure=%d",
		how, p.InitialDelaySeconds, p.TimeoutSeconds, p.PeriodSeconds, p.SuccessThreshold, p.FailureThreshold)
}

// describeVolume is the lines under a volume's name in describe pod.
func describeVolume(w io.Writer, v api.Volume) {
	switch {
	case v.EmptyDir != nil:
		fmt.Fprintf(w, "    Type:       EmptyDir (a temporary directory that shares a pod's lifetime)\n")
		fmt.Fprintf(w, "    Medium:     %s\n", v.EmptyDir.Medium)
		limit := "<unset>"
		if v.EmptyDir.SizeLimit != nil {
			limit = v.EmptyDir.SizeLimit.String()
		}
		fmt.Fprintf(w, "    SizeLimit:  %s\n", limit)
	case v.HostPath != nil:
		fmt.Fprintf(w, "    Type:          HostPath (bare host directory volume)\n")
		fmt.Fprintf(w, "    Path:          %s\n", v.HostPath.Path)
		typ := ""
		if v.HostPath.Type != nil {
			typ = string(*v.HostPath.Type)
		}
		fmt.Fprintf(w, "    HostPathType:  %s\n", typ)
	}
}
