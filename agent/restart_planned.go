package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/shoal-dev/shoal/agent/liveness"
	"github.com/shoal-dev/shoal/api"
)

// DefaultRestartGrace is --restart-grace's default (agent/liveness).
const DefaultRestartGrace = liveness.DefaultRestartGrace

// A stop on purpose (SIGTERM: systemctl restart, a rolling upgrade) is a
// planned restart, as the kubelet's and Nomad's clients treat one: the
// pods keep running (KillMode=process) and the next agent adopts them.
// The node grace (2 s by default) is tuned for failing over a crashed
// node fast, and a restart takes longer: without more, the leader
// replaced the node's replicas and the restarted agent stopped them,
// since it had been out of contact past FenceAfter.
//
// So the stopping agent asks the fleet for a longer grace, and both sides
// keep to it:
//  1. it records its restart grace on its node in Raft
//     (liveness.AnnRestartGrace), through its own API, before it stops;
//  2. only once that write is committed, it writes "stopped on purpose" in
//     its data dir (agent/node/planned_stop.go);
//  3. the leader keeps a node with the mark, and its pods, for the restart
//     grace after the agent left (agent/controllers/nodelifecycle_restart.go);
//  4. the restarted agent keeps the pods of its saved view by the same
//     grace until it is in contact again, then forgets the planned stop and
//     removes the mark (clearRestartMark), so a later crash fails over as
//     fast as ever.
// A crash writes neither. A stop whose write fails (no leader, no quorum)
// writes no file: the node fences by the node grace, which is never later
// than the leader's replacement, whatever the leader recorded.

// restartMarkTimeout bounds the write of the mark: a stop waits no longer
// for a fleet that does not answer (then it is treated as a crash).
const restartMarkTimeout = 2 * time.Second

// validRestartGrace refuses a restart grace the fencing rule cannot use.
func (c *Config) validRestartGrace() error {
	if err := liveness.ValidRestartGrace(c.RestartGrace); err != nil {
		return fmt.Errorf("restart-grace: %w", err)
	}
	return nil
}

// markPlannedRestart records this agent's restart grace on its node and,
// once committed, on disk; ctx is the agent's, done (a crash, its cause
// ErrCrash, records nothing). A restart grace no longer than the node
// grace would change nothing and is not recorded.
func (a *Agent) markPlannedRestart(ctx context.Context) {
	if a.cfg.RestartGrace <= a.cfg.liveness().NodeGrace || errors.Is(context.Cause(ctx), ErrCrash) || a.fence == nil {
		return
	}
	wctx, cancel := context.WithTimeout(context.Background(), restartMarkTimeout)
	defer cancel()
	grace := a.cfg.RestartGrace
	if err := a.patchRestartMark(wctx, grace.String()); err != nil {
		a.log.Warn("could not record a planned restart: the fleet replaces this node's pods after the node grace, and the next agent fences by it", "err", err)
		return
	}
	if err := a.fence.RecordPlannedStop(grace); err != nil {
		a.log.Warn("could not record the planned stop on disk: the next agent fences by the node grace", "err", err)
		return
	}
	a.log.Info("stopping on purpose: the fleet keeps this node's pods for the restart grace", "restart_grace", grace)
}

// clearRestartMark removes this node's restart mark once the fencer no
// longer keeps pods by a planned restart's budget (in contact again, or
// it did not start from a planned stop), retrying until the fleet takes
// it. A mark left by an earlier run whose stop the disk did not record
// goes too.
func (a *Agent) clearRestartMark(ctx context.Context) {
	select {
	case <-ctx.Done():
		return
	case <-a.fence.PlannedRestartOver():
	}
	for delay := 500 * time.Millisecond; ; {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		marked, err := a.hasRestartMark(cctx)
		if err == nil && marked {
			err = a.patchRestartMark(cctx, "")
			if err == nil {
				a.log.Info("back after a planned restart: removed the restart mark")
			}
		}
		cancel()
		if err == nil {
			return
		}
		a.log.Debug("remove the restart mark", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// hasRestartMark reads this node through the agent's own API: a node not
// registered yet has no mark.
func (a *Agent) hasRestartMark(ctx context.Context) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.nodeURL(), nil)
	if err != nil {
		return false, err
	}
	resp, err := a.internalClient(0).Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return false, nil
	}
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("read node %s: HTTP %d", a.cfg.Name, resp.StatusCode)
	}
	var n api.Node
	if err := json.NewDecoder(resp.Body).Decode(&n); err != nil {
		return false, fmt.Errorf("read node %s: %w", a.cfg.Name, err)
	}
	_, ok := n.ObjectMeta.Annotations[liveness.AnnRestartGrace]
	return ok, nil
}

// patchRestartMark sets the node's restart mark to value, or removes it
// ("" : null in a JSON merge patch), and returns once the fleet committed it.
func (a *Agent) patchRestartMark(ctx context.Context, value string) error {
	var v any
	if value != "" {
		v = value
	}
	body, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]any{liveness.AnnRestartGrace: v}}})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, a.nodeURL(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/merge-patch+json")
	resp, err := a.internalClient(0).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("annotate node %s: HTTP %d: %s", a.cfg.Name, resp.StatusCode, bytes.TrimSpace(msg))
	}
	return nil
}

// nodeURL is this node in the Kubernetes API, through the agent's own API.
func (a *Agent) nodeURL() string {
	return "http://" + a.self.API + "/api/v1/nodes/" + url.PathEscape(a.cfg.Name)
}
