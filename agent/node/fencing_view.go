package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// The fencer keeps on disk the last view the node acted on
// (FenceConfig.ViewFile), so an agent restarted while cut off from the
// fleet knows which pods it keeps running and which it must stop, instead
// of neither: without it, the restarted agent read no view, fenced
// nothing, and its replicas ran on beside their replacements. The view is
// written before the node acts on it (reconcileAllowed), so the file is
// never older than what the node removed. The file's modification time is
// the node's last evidence of contact (never later than it: it is set to
// the evidence's own time), so a restarted agent counts its fence
// deadlines from there; a wall-clock time, but one read back on the same
// machine.

// touchEvery is how often, at most, the fence loop moves the view file's
// time to the node's last contact while in contact. Each move was a
// utimensat and an inode write at every tick (four a second), a tenth of
// an idle follower's CPU samples (docs/performance.md). The time on disk
// is thus up to touchEvery (and the tick that saw the contact) older than
// the node's last contact before a restart, and a restarted agent counts
// its fence deadlines from it: an earlier start only makes it fence
// sooner, never later than the leader may replace its pods, so the rule
// of docs/liveness.md holds; what it costs is that an agent restarted
// within FenceAfter plus a second of its last contact may kill, on its
// first tick without contact, replicas it could have kept.
const touchEvery = time.Second

type savedView struct {
	Pods []api.Pod `json:"pods"`
}

// viewKey names a view by its pods' UIDs and resource versions: a new key
// is a view worth saving.
func viewKey(pods []api.Pod) string {
	var b strings.Builder
	for i := range pods {
		b.WriteString(string(pods[i].ObjectMeta.UID))
		b.WriteByte('@')
		b.WriteString(pods[i].ObjectMeta.ResourceVersion)
		b.WriteByte(' ')
	}
	return b.String()
}

// saveView writes the view atomically (a crash leaves the old one) with
// its modification time at contact, and syncs it: the node removes pods
// once this returns, and after a power cut (which takes every container
// with it) the restarted agent starts again, while cut off, the pods of
// the view it finds.
func saveView(path string, pods []api.Pod, contact time.Time) error {
	data, err := json.Marshal(savedView{Pods: pods})
	if err != nil {
		return fmt.Errorf("encode the node's view: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save the node's view: %w", err)
	}
	tmp := path + ".tmp"
	if err := writeSynced(tmp, data, contact); err != nil {
		return fmt.Errorf("save the node's view: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("save the node's view: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("save the node's view: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("save the node's view: sync %s: %w", dir, err)
	}
	return nil
}

// writeSynced writes data to path with its time at mtime, and syncs it.
func writeSynced(path string, data []byte, mtime time.Time) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := fh.Write(data); err != nil {
		fh.Close()
		return err
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		fh.Close()
		return err
	}
	if err := fh.Sync(); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

// loadView reads the saved view and the last contact it records: no file
// is no view (a first start), not an error.
func loadView(path string) ([]api.Pod, time.Time, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, time.Time{}, nil
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read the node's saved view: %w", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read the node's saved view: %w", err)
	}
	var v savedView
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, time.Time{}, fmt.Errorf("read the node's saved view %s: %w", path, err)
	}
	return v.Pods, st.ModTime(), nil
}

// touchContact moves the saved view's time to the node's last contact.
func touchContact(path string, contact time.Time) error {
	if err := os.Chtimes(path, contact, contact); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("record the node's last contact: %w", err)
	}
	return nil
}
