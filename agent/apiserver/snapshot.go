package apiserver

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// snapshotWriter is what the backup needs of the state: consensus.FSM.
type snapshotWriter interface {
	WriteSnapshot(w io.Writer) (uint64, error)
}

// snapshot answers the state machine's snapshot: the very bytes Raft
// writes to its snapshot store (JSON of nodes, pods and controllers), taken
// on the leader so it holds every committed write. It is the backup that
// `shoal snapshot save` keeps and `shoal snapshot restore` re-applies.
func (srv *Server) snapshot(w http.ResponseWriter, r *http.Request) {
	fsm, ok := srv.fsm().(snapshotWriter)
	if !ok {
		writeError(w, srv.log, fmt.Errorf("state of type %T cannot snapshot", srv.fsm()))
		return
	}
	// The state is small (every server holds it in memory anyway), and
	// buffering it lets the answer carry its length.
	var buf bytes.Buffer
	idx, err := fsm.WriteSnapshot(&buf)
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(indexHeader, strconv.FormatUint(idx, 10))
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	if _, err := buf.WriteTo(w); err != nil {
		srv.log.Debug("send snapshot", "err", err)
	}
}
