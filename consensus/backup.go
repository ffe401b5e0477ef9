package consensus

import (
	"fmt"
	"io"

	"github.com/hashicorp/raft"
)

// WriteSnapshot writes the state to w exactly as Raft writes it to its
// snapshot store (the JSON of nodes, pods, controllers...), the backup
// `shoal snapshot save` keeps, and returns the index the state was at.
func (f *FSM) WriteSnapshot(w io.Writer) (uint64, error) {
	idx := f.Index()
	snap, err := f.Snapshot()
	if err != nil {
		return 0, err
	}
	defer snap.Release()
	if err := snap.Persist(&writerSink{w: w}); err != nil {
		return 0, fmt.Errorf("write snapshot at index %d: %w", idx, err)
	}
	return idx, nil
}

// writerSink is a raft.SnapshotSink onto any writer.
type writerSink struct{ w io.Writer }

func (s *writerSink) Write(p []byte) (int, error) { return s.w.Write(p) }
func (s *writerSink) ID() string                  { return "backup" }
func (s *writerSink) Cancel() error               { return nil }
func (s *writerSink) Close() error                { return nil }

var _ raft.SnapshotSink = (*writerSink)(nil)
