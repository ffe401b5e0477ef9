package agent

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"

	"github.com/hashicorp/raft"
)

// snapshot answers the state machine's snapshot: the very bytes Raft
// writes to its snapshot store (JSON of nodes, pods and controllers), taken
// on the leader so it holds every committed write. It is the backup that
// `shoal snapshot save` keeps and `shoal snapshot restore` re-applies.
func (a *Agent) snapshot(w http.ResponseWriter, r *http.Request) {
	fsm, ok := a.fsm().(raft.FSM)
	if !ok {
		writeError(w, a.log, fmt.Errorf("state of type %T cannot snapshot", a.fsm()))
		return
	}
	idx := a.fsm().Index()
	snap, err := fsm.Snapshot()
	if err != nil {
		writeError(w, a.log, err)
		return
	}
	defer snap.Release()
	var sink bufferSink
	if err := snap.Persist(&sink); err != nil {
		writeError(w, a.log, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(indexHeader, strconv.FormatUint(idx, 10))
	w.Header().Set("Content-Length", strconv.Itoa(sink.Len()))
	if _, err := sink.WriteTo(w); err != nil {
		a.log.Debug("send snapshot", "err", err)
	}
}

// bufferSink is a raft.SnapshotSink into memory: the state is small (it is
// what every server holds in memory anyway).
type bufferSink struct{ bytes.Buffer }

func (s *bufferSink) ID() string    { return "api" }
func (s *bufferSink) Cancel() error { return nil }
func (s *bufferSink) Close() error  { return nil }

var _ raft.SnapshotSink = (*bufferSink)(nil)
