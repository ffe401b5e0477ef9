package consensus

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"
)

// Config describes one Raft server.
type Config struct {
	// ID is the server's stable Raft ID (the node name).
	ID string
	// DataDir holds raft/wal (log and stable store) and raft/snapshots;
	// only OpenOnDisk reads it (and BindAddr, AdvertiseAddr, TLS, MaxPool,
	// TransportTimeout, SnapshotRetain): Open takes its stores ready made.
	DataDir string
	// BindAddr is the TCP host:port the transport listens on. Port 0 picks
	// a free port (then AdvertiseAddr must be empty; Addr tells the port).
	BindAddr string
	// AdvertiseAddr is the host:port peers dial; defaults to BindAddr,
	// which then must not be an unspecified address (0.0.0.0).
	AdvertiseAddr string
	// Log receives the server's and hashicorp/raft's logs.
	Log *slog.Logger
	// RaftLogLevel is the least level of hashicorp/raft's own messages that
	// reach Log. Default warn: raft narrates every election and snapshot at
	// info, which drowns an agent's log. Nil means warn.
	RaftLogLevel slog.Leveler

	// Timeouts, tuned by default for a LAN or a lab on one host (see
	// withDefaults). Zero means the default.
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	CommitTimeout      time.Duration
	// LeaderHeartbeatTimeout is the HeartbeatTimeout this server runs
	// with while it leads (raft_leader_heartbeat.go): hashicorp/raft
	// sends each follower a heartbeat every tenth of it (drawn from 1-2x),
	// and the same setting is a follower's election timer, so a leader
	// alone can heartbeat less often while its followers notice its loss
	// as fast as before. Zero, or anything below HeartbeatTimeout, means
	// HeartbeatTimeout: a leader never heartbeats more often than that.
	// The agent derives it, with LeaderLeaseTimeout, from the node grace
	// (agent/liveness.Budget.Raft, docs/liveness.md).
	LeaderHeartbeatTimeout time.Duration
	// TransportTimeout bounds one RPC's socket I/O.
	TransportTimeout time.Duration
	// MaxPool is the number of pooled connections per peer.
	MaxPool int

	// SnapshotInterval and SnapshotThreshold decide when Raft snapshots the
	// state and trims the log; SnapshotRetain is how many snapshots stay
	// on disk (default 2).
	SnapshotInterval  time.Duration
	SnapshotThreshold uint64
	SnapshotRetain    int
	// TrailingLogs is how many entries stay in the log after a snapshot, so
	// a briefly absent follower catches up from the log, not a snapshot.
	TrailingLogs uint64

	// TLS, when set, puts Raft's connections under mutual TLS: its
	// Certificates are this server's (used to serve and to dial, so they
	// need both the server and client key usages), RootCAs the fleet's CA.
	TLS *tls.Config
}

// withDefaults fills every zero field.
func (c Config) withDefaults() Config {
	// hashicorp/raft's defaults are for WAN-ish links (election after up to
	// 2x1s heartbeat timeout plus jitter, 500ms lease) and work; these are
	// the same order but stated explicitly, because the fleet must notice a
	// dead leader in about 1-2s for chaos tests and the placement loop to
	// move on, and a LAN or a single host never has round trips near them.
	// Shorter would trade that for spurious elections on a busy 2-core box.
	if c.HeartbeatTimeout == 0 {
		c.HeartbeatTimeout = time.Second
	}
	if c.ElectionTimeout == 0 {
		c.ElectionTimeout = time.Second
	}
	if c.LeaderLeaseTimeout == 0 {
		c.LeaderLeaseTimeout = 500 * time.Millisecond
	}
	c.LeaderHeartbeatTimeout = max(c.LeaderHeartbeatTimeout, c.HeartbeatTimeout)
	if c.CommitTimeout == 0 {
		// Only a safety net: a write's commit reaches the followers at
		// once (commit_nudge.go); an idle leader sends each follower an
		// empty AppendEntries every 0.5-1 s instead of every 50-100 ms.
		c.CommitTimeout = 500 * time.Millisecond
	}
	if c.TransportTimeout == 0 {
		c.TransportTimeout = 10 * time.Second
	}
	if c.MaxPool == 0 {
		c.MaxPool = 3
	}
	if c.SnapshotInterval == 0 {
		c.SnapshotInterval = 2 * time.Minute
	}
	if c.SnapshotThreshold == 0 {
		c.SnapshotThreshold = 8192
	}
	if c.SnapshotRetain == 0 {
		c.SnapshotRetain = 2
	}
	if c.TrailingLogs == 0 {
		c.TrailingLogs = 10240
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.RaftLogLevel == nil {
		c.RaftLogLevel = slog.LevelWarn
	}
	return c
}

// Validate names every field that is wrong for any server, whatever its
// stores and transport.
func (c Config) Validate() error {
	var errs []error
	if c.ID == "" {
		errs = append(errs, errors.New("ID: required (the server's stable name)"))
	}
	errs = append(errs, c.timingErrors()...)
	return joinConfigErrors(errs)
}

// ValidateOnDisk names every field that is wrong for a server that keeps
// its log and snapshots in DataDir and listens on BindAddr (OpenOnDisk).
func (c Config) ValidateOnDisk() error {
	var errs []error
	if c.ID == "" {
		errs = append(errs, errors.New("ID: required (the server's stable name)"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("DataDir: required"))
	}
	bindHost, bindPort, err := splitHostPort(c.BindAddr)
	if err != nil {
		errs = append(errs, fmt.Errorf("BindAddr %q: %w", c.BindAddr, err))
	}
	if c.AdvertiseAddr != "" {
		host, port, err := splitHostPort(c.AdvertiseAddr)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("AdvertiseAddr %q: %w", c.AdvertiseAddr, err))
		case net.ParseIP(host) == nil:
			errs = append(errs, fmt.Errorf("AdvertiseAddr %q: host must be an IP address", c.AdvertiseAddr))
		case net.ParseIP(host).IsUnspecified():
			errs = append(errs, fmt.Errorf("AdvertiseAddr %q: peers cannot dial an unspecified address", c.AdvertiseAddr))
		case port == 0:
			errs = append(errs, fmt.Errorf("AdvertiseAddr %q: port required", c.AdvertiseAddr))
		case bindPort == 0 && err == nil:
			errs = append(errs, fmt.Errorf("BindAddr %q: port 0 only without AdvertiseAddr (the chosen port is not known in advance)", c.BindAddr))
		}
	} else if err == nil {
		if ip := net.ParseIP(bindHost); ip == nil || ip.IsUnspecified() {
			errs = append(errs, fmt.Errorf("AdvertiseAddr: required when BindAddr %q is not a specific IP address", c.BindAddr))
		}
	}
	errs = append(errs, c.timingErrors()...)
	return joinConfigErrors(errs)
}

func (c Config) timingErrors() []error {
	var errs []error
	if c.LeaderLeaseTimeout > c.HeartbeatTimeout && c.HeartbeatTimeout != 0 {
		errs = append(errs, fmt.Errorf("LeaderLeaseTimeout %s: must not exceed HeartbeatTimeout %s", c.LeaderLeaseTimeout, c.HeartbeatTimeout))
	}
	if c.ElectionTimeout != 0 && c.ElectionTimeout < c.HeartbeatTimeout {
		errs = append(errs, fmt.Errorf("ElectionTimeout %s: must be at least HeartbeatTimeout %s", c.ElectionTimeout, c.HeartbeatTimeout))
	}
	if c.SnapshotRetain < 0 {
		errs = append(errs, fmt.Errorf("SnapshotRetain %d: must be at least 1", c.SnapshotRetain))
	}
	return errs
}

func joinConfigErrors(errs []error) error {
	if len(errs) > 0 {
		return fmt.Errorf("raft config: %w", errors.Join(errs...))
	}
	return nil
}

func splitHostPort(addr string) (string, int, error) {
	if addr == "" {
		return "", 0, errors.New("required (host:port)")
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("port %q: must be a number from 0 to 65535", portStr)
	}
	return host, port, nil
}
