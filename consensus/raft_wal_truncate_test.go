package consensus

import (
	"testing"

	"github.com/hashicorp/raft"
	raftwal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"
)

// A follower whose log holds an entry the new leader never had clears
// that suffix ("clearing log suffix"); when it is then killed and starts
// again its log must still open. raft-wal v0.4.0 sealed the segment
// without its index on a tail truncation, and the restarted agent
// panicked in raft.NewRaft with "sealed segment has no index block"
// (found by the chaos runner: seed 1, rolling restart after a partition
// of the leader; hashicorp/raft-wal#31, fixed in v0.4.1).
func TestLogOpensAfterItsTailWasTruncated(t *testing.T) {
	dir := t.TempDir()
	open := func() (*raftwal.WAL, *metadb.BoltMetaDB) {
		meta := &metadb.BoltMetaDB{}
		w, err := raftwal.Open(dir, raftwal.WithMetaStore(meta))
		if err != nil {
			t.Fatalf("open wal: %v", err)
		}
		return w, meta
	}
	w, meta := open()
	var logs []*raft.Log
	for i := uint64(1); i <= 20; i++ {
		logs = append(logs, &raft.Log{Index: i, Term: 1, Type: raft.LogCommand, Data: []byte("entry")})
	}
	if err := w.StoreLogs(logs); err != nil {
		t.Fatal(err)
	}
	if err := w.DeleteRange(20, 20); err != nil {
		t.Fatalf("truncate the tail: %v", err)
	}
	if err := w.StoreLogs([]*raft.Log{{Index: 20, Term: 2, Type: raft.LogCommand, Data: []byte("new")}}); err != nil {
		t.Fatal(err)
	}
	// A kill -9 closes nothing; closing here only releases the files.
	_ = w.Close()
	_ = meta.Close()

	w, meta = open()
	defer meta.Close()
	defer w.Close()
	var l raft.Log
	if err := w.GetLog(1, &l); err != nil {
		t.Fatalf("first entry after reopening: %v", err)
	}
	if err := w.GetLog(20, &l); err != nil || string(l.Data) != "new" || l.Term != 2 {
		t.Fatalf("entry 20 after reopening: %v %q term %d, want \"new\" term 2", err, l.Data, l.Term)
	}
}
