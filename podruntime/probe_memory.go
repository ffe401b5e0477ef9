package podruntime

import (
	"context"
	"strings"
	"time"

	"github.com/containerd/containerd/errdefs"
)

// labelProbeState keeps what a container run's probes last proved
// ("<runID>|<started>|<ready>"), so that an agent that restarts does not
// turn a ready pod unready until its probes run again: no pod changes state
// because its agent did.
const labelProbeState = "io.shoal.probe.state"

type probeMemory struct {
	started, ready bool
}

func encodeProbeMemory(runID string, m probeMemory) string {
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	return runID + "|" + b(m.started) + "|" + b(m.ready)
}

// decodeProbeMemory returns the remembered state of this run; a state
// written for another run of the container counts for nothing.
func decodeProbeMemory(labels map[string]string, runID string) probeMemory {
	parts := strings.Split(labels[labelProbeState], "|")
	if len(parts) != 3 || parts[0] != runID || runID == "" {
		return probeMemory{}
	}
	return probeMemory{started: parts[1] == "1", ready: parts[2] == "1"}
}

// rememberProbes writes the state of a prober when it changed. It is best
// effort: a failure costs only a readiness flap after an agent restart.
func (r *Runtime) rememberProbes(ctx context.Context, t probeTarget, runID string, m probeMemory) {
	ctx, cancel := context.WithTimeout(r.withNS(ctx), 5*time.Second)
	defer cancel()
	cont, err := r.client.LoadContainer(ctx, t.containerID)
	if err == nil {
		_, err = cont.SetLabels(ctx, map[string]string{labelProbeState: encodeProbeMemory(runID, m)})
	}
	if err != nil && !errdefs.IsNotFound(err) && ctx.Err() == nil {
		r.log.Debug("remember probe state", "container", t.containerID, "err", err)
	}
}
