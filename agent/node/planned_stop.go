package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// An agent that stops on purpose (SIGTERM: systemctl restart, a rolling
// upgrade) first records its restart grace in Raft (the node annotation
// liveness.AnnRestartGrace), and only once that write is committed writes
// this file: "stopped on purpose at At, the fleet keeps my pods for
// Grace". The restarted agent's fencer reads it back and keeps the pods of
// its saved view by the restart's budget (liveness.Budget.Restart) until
// it is in contact again, instead of stopping them because it was away
// for longer than FenceAfter. Without the file (a crash, a power cut, a
// stop whose write did not commit) the fence keeps the node grace: the
// fleet may then replace the pods that soon, so the node must stop them.

// plannedStop is the file's content.
type plannedStop struct {
	At    time.Time `json:"at"`
	Grace string    `json:"grace"`
}

// savePlannedStop writes the file atomically.
func savePlannedStop(path string, grace time.Duration, at time.Time) error {
	data, err := json.Marshal(plannedStop{At: at.UTC(), Grace: grace.String()})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("record the planned stop: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("record the planned stop: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("record the planned stop: %w", err)
	}
	return nil
}

// loadPlannedStop reads the file: no file is no planned stop (0), not an
// error.
func loadPlannedStop(path string) (time.Duration, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read the planned stop: %w", err)
	}
	var p plannedStop
	if err := json.Unmarshal(data, &p); err != nil {
		return 0, fmt.Errorf("read the planned stop %s: %w", path, err)
	}
	grace, err := time.ParseDuration(p.Grace)
	if err != nil || grace <= 0 {
		return 0, fmt.Errorf("read the planned stop %s: grace %q is not a positive duration", path, p.Grace)
	}
	return grace, nil
}

// RecordPlannedStop tells the next agent on this node that this one
// stopped on purpose with the given restart grace, which the fleet has
// recorded (the caller wrote liveness.AnnRestartGrace first). Without a
// ViewFile there is nothing to keep and nothing is written.
func (f *Fencer) RecordPlannedStop(grace time.Duration) error {
	if f.plannedFile == "" {
		return nil
	}
	return savePlannedStop(f.plannedFile, grace, time.Now())
}

// PlannedRestartOver is closed once this agent no longer keeps pods by a
// planned restart's budget: at once when it did not start from one, else
// when it is in contact with the fleet again. Only then may the fleet's
// restart mark go (the leader would otherwise count the node grace from
// the agent's stop while the node still keeps its pods by the longer one).
func (f *Fencer) PlannedRestartOver() <-chan struct{} { return f.plannedOver }

// restorePlanned reads the planned stop at start; f is not shared yet.
func (f *Fencer) restorePlanned() {
	if f.plannedFile == "" {
		f.endPlanned()
		return
	}
	grace, err := loadPlannedStop(f.plannedFile)
	if err != nil {
		f.log.Warn("the planned stop on disk is unreadable: fencing by the node grace", "err", err)
	}
	if grace > f.budget.NodeGrace {
		f.planned = grace
		f.log.Info("restarted after a planned stop: keeping this node's pods by the restart grace until the fleet answers", "restart_grace", grace)
		return
	}
	if err := os.Remove(f.plannedFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		f.log.Warn("remove the planned stop", "err", err)
	}
	f.endPlanned()
}

// endPlanned leaves a planned restart's budget: the node is in contact
// again (or never restarted from a planned stop). Its pods are fenced by
// the node grace from here on, the file goes, and PlannedRestartOver is
// closed. f.mu is held (or f unshared).
func (f *Fencer) endPlanned() {
	if f.planned > 0 {
		f.planned = 0
		f.setView(f.view)
		if err := os.Remove(f.plannedFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			f.log.Warn("remove the planned stop", "err", err)
		}
		f.log.Info("in contact after a planned restart: fencing by the node grace again")
	}
	select {
	case <-f.plannedOver:
	default:
		close(f.plannedOver)
	}
}
