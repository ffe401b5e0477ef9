package consensus

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/hashicorp/raft"
	raftwal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"
)

// OpenOnDisk starts the server the fleet runs: raft-wal in
// cfg.DataDir/raft/wal as log and stable store, file snapshots in
// cfg.DataDir/raft/snapshots, and a TCP transport on cfg.BindAddr (under
// mutual TLS when cfg.TLS is set).
func OpenOnDisk(cfg Config, fsm StateMachine) (*Raft, error) {
	cfg = cfg.withDefaults()
	if err := cfg.ValidateOnDisk(); err != nil {
		return nil, err
	}
	st, err := openDiskStores(cfg)
	if err != nil {
		return nil, fmt.Errorf("open raft %s: %w", cfg.ID, err)
	}
	r, err := Open(cfg, fsm, st)
	if err != nil {
		return nil, err
	}
	r.log.Info("raft data on disk", "data_dir", cfg.DataDir)
	return r, nil
}

// logCacheEntries is how many of the newest log entries the leader reads
// from memory rather than from the WAL: the leader reads the entry
// before each follower's next, which is among the newest unless a
// follower is far behind (a few hundred KB at most).
const logCacheEntries = 128

func openDiskStores(cfg Config) (Stores, error) {
	log := cfg.Log.With("raft_id", cfg.ID)
	level := cfg.RaftLogLevel.Level()
	base := filepath.Join(cfg.DataDir, "raft")
	walDir := filepath.Join(base, "wal")
	if err := os.MkdirAll(walDir, 0o700); err != nil {
		return Stores{}, fmt.Errorf("create %s: %w", walDir, err)
	}
	// raft-wal is both log store and stable store (term, vote). WAL.Close
	// (v0.4.0) leaves its bolt meta database open and locked, so a server
	// reopened in the same process would block on the file lock: we own the
	// meta store and close it ourselves.
	meta := &metadb.BoltMetaDB{}
	wal, err := raftwal.Open(walDir, raftwal.WithMetaStore(meta), raftwal.WithLogger(newHCLogger(log, "raft-wal", level)))
	if err != nil {
		_ = meta.Close()
		return Stores{}, fmt.Errorf("log in %s: %w", walDir, err)
	}
	var trans *raft.NetworkTransport
	closeAll := func() error {
		var errs []error
		if trans != nil {
			errs = append(errs, trans.Close())
		}
		errs = append(errs, wal.Close(), meta.Close())
		return errors.Join(errs...)
	}
	// The store puts its files in base/snapshots.
	snaps, err := raft.NewFileSnapshotStoreWithLogger(base, cfg.SnapshotRetain, newHCLogger(log, "raft-snapshots", level))
	if err != nil {
		_ = closeAll()
		return Stores{}, fmt.Errorf("snapshots in %s: %w", base, err)
	}
	var advertise net.Addr
	if cfg.AdvertiseAddr != "" {
		advertise, err = net.ResolveTCPAddr("tcp", cfg.AdvertiseAddr)
		if err != nil {
			_ = closeAll()
			return Stores{}, fmt.Errorf("advertise address %s: %w", cfg.AdvertiseAddr, err)
		}
	}
	trans, err = newTransport(cfg, advertise, newHCLogger(log, "raft-net", level)) // consensus/tls_stream.go
	if err != nil {
		_ = closeAll()
		return Stores{}, fmt.Errorf("listen on %s: %w", cfg.BindAddr, err)
	}
	// The leader sends every follower an AppendEntries each CommitTimeout
	// even when nothing is new, and each one reads the entry before the
	// next from the log: on an idle fleet that was a pread on the WAL
	// some thirty times a second, a third of the leader's replication CPU
	// (docs/performance.md). The cache keeps the newest entries in memory.
	logs, err := raft.NewLogCache(logCacheEntries, wal)
	if err != nil {
		_ = closeAll()
		return Stores{}, fmt.Errorf("log cache: %w", err)
	}
	return Stores{Log: logs, Stable: wal, Snapshots: snaps, Transport: trans, Close: closeAll}, nil
}
