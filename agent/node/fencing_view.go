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

// The fencer keeps the last view it read on disk (FenceConfig.ViewFile),
// so an agent restarted while cut off from the fleet knows which pods it
// keeps running and which it must stop, instead of neither: without it,
// the restarted agent read no view, fenced nothing, and its replicas ran
// on beside their replacements. The file's modification time is the
// node's last evidence of contact (never later than it: it is set to the
// evidence's own time), so a restarted agent counts its fence deadlines
// from there; a wall-clock time, but one read back on the same machine.

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
// its modification time at contact.
func saveView(path string, pods []api.Pod, contact time.Time) error {
	data, err := json.Marshal(savedView{Pods: pods})
	if err != nil {
		return fmt.Errorf("encode the node's view: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("save the node's view: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("save the node's view: %w", err)
	}
	if err := os.Chtimes(tmp, contact, contact); err != nil {
		return fmt.Errorf("save the node's view: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("save the node's view: %w", err)
	}
	return nil
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
