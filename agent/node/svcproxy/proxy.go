package svcproxy

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"sigs.k8s.io/knftables"
)

// DefaultTable is the nftables table (family ip) the proxy owns.
const DefaultTable = "shoal-svc"

// Config says where the proxy works.
type Config struct {
	// NetNS is the path of the network namespace to program (a bind-mounted
	// namespace file); empty means the agent's own namespace.
	NetNS string
	// Table is the ip-family table the proxy owns; DefaultTable if empty.
	Table string
	// Logger; slog.Default() if nil.
	Logger *slog.Logger
}

// Proxy keeps the service table of one network namespace equal to the
// Services last given to Sync.
type Proxy struct {
	log   *slog.Logger
	table string

	mu  sync.Mutex
	nft nftables
	// pieces are the Services of the last successful Sync, each with its
	// rules (plan.go); nil before the first, which flushes no conntrack
	// entries (the flows a previous agent left are still what its rules
	// said).
	pieces map[string]*piece
	// known says the kernel's table is what pieces say; false (first
	// sync, or a failed one) makes the next sync rebuild the whole table.
	known  bool
	closed bool
	// fast writes endpoint-only changes over netlink (netlinkfast.go);
	// nil sends every change through nft.
	fast fastNFT
	// fastSyncs counts the Syncs fast applied, for tests.
	fastSyncs int
	// ct deletes UDP flows the last Sync made stale (conntrack.go); nil
	// deletes none.
	ct conntracker
}

// New opens the table (checking that nft works in the namespace) without
// changing anything; the first Sync writes it.
func New(cfg Config) (*Proxy, error) {
	if cfg.Table == "" {
		cfg.Table = DefaultTable
	}
	nft, err := newNSNFTables(cfg.NetNS, cfg.Table)
	if err != nil {
		return nil, err
	}
	p := newWith(cfg, nft)
	p.ct = &nsConntrack{path: cfg.NetNS}
	p.fast = &nlTables{path: cfg.NetNS, table: cfg.Table}
	return p, nil
}

// newWith builds a Proxy over any nftables, the in-memory fake included.
func newWith(cfg Config, nft nftables) *Proxy {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.Table == "" {
		cfg.Table = DefaultTable
	}
	return &Proxy{log: log.With("table", "ip "+cfg.Table, "netns", cfg.NetNS), table: cfg.Table, nft: nft}
}

// Sync makes the table serve exactly svcs, in one transaction. Invalid input
// is refused with an error naming the field and changes nothing. Only the
// Services that differ from the last successful Sync are planned.
func (p *Proxy) Sync(ctx context.Context, svcs []Service) error {
	if err := validate(svcs); err != nil {
		return fmt.Errorf("service proxy: %w", err)
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return fmt.Errorf("service proxy: sync after close")
	}
	pl := planSync(p.pieces, svcs)
	if err := p.applyOrRebuild(ctx, len(svcs), pl); err != nil {
		return err
	}
	first := p.pieces == nil
	p.pieces = pl.applyTo(p.pieces)
	if !first {
		p.flushStale(ctx, pl)
	}
	return nil
}

func (p *Proxy) applyOrRebuild(ctx context.Context, nsvcs int, pl *plan) error {
	if p.known {
		err := p.apply(ctx, nsvcs, pl)
		if err == nil || ctx.Err() != nil {
			return err
		}
		// The table is not what the last transaction left (changed or
		// removed behind our back): rebuild it whole, once.
		p.log.Warn("incremental service rule update failed, rebuilding the table", "err", err)
	}
	return p.rebuild(ctx, nsvcs, wholeRuleset(pl.applyTo(p.pieces)))
}

// flushStale deletes the UDP flows the rules just applied no longer send
// where conntrack remembers (conntrack.go), comparing only the Services
// that changed. The rules are in place whatever happens here, so a
// failure is logged, not returned: the flow ends when its client stops
// sending.
func (p *Proxy) flushStale(ctx context.Context, pl *plan) {
	if p.ct == nil {
		return
	}
	flows := staleFlows(pl.oldSvcs, pl.newSvcs)
	if len(flows) == 0 {
		return
	}
	n, err := p.ct.DeleteUDP(ctx, flows)
	if err != nil {
		p.log.Warn("delete stale UDP conntrack entries", "flows", fmt.Sprint(flows), "err", err)
	} else {
		p.log.Debug("deleted stale UDP conntrack entries", "filters", len(flows), "entries", n)
	}
}

// apply moves the table by the plan's changed Services in one
// transaction: over netlink when only endpoints moved, else through nft.
func (p *Proxy) apply(ctx context.Context, nsvcs int, pl *plan) error {
	if pl.empty() {
		return nil
	}
	if p.fast != nil {
		if chains, ok := fastChanges(pl.have, pl.want); ok {
			if len(chains) == 0 {
				return nil
			}
			start := time.Now()
			err := p.fast.ReplaceDNAT(ctx, pl.want, chains)
			if err == nil {
				p.fastSyncs++
				p.log.Debug("service rules applied over netlink", "services", nsvcs, "changed", len(pl.set)+len(pl.removed), "chains", len(chains), "took", time.Since(start))
				return nil
			}
			// The batch is atomic: nothing changed, and nft writes the
			// same change below.
			p.log.Warn("netlink update of service rules failed, using nft", "err", err)
		}
	}
	tx := p.nft.NewTransaction()
	writeDiff(tx, pl.have, pl.want)
	return p.run(ctx, tx, nsvcs, false)
}

// rebuild replaces whatever table is there with want, in one transaction.
func (p *Proxy) rebuild(ctx context.Context, nsvcs int, want *ruleset) error {
	tx := p.nft.NewTransaction()
	writeFull(tx, want)
	if err := p.run(ctx, tx, nsvcs, true); err != nil {
		return err
	}
	p.known = true
	return nil
}

// run sends one nft transaction; a failure leaves the table unknown.
func (p *Proxy) run(ctx context.Context, tx *knftables.Transaction, nsvcs int, full bool) error {
	if tx.NumOperations() == 0 {
		return nil
	}
	start := time.Now()
	if err := p.nft.Run(ctx, tx); err != nil {
		p.known = false
		return fmt.Errorf("service proxy: apply %d services (%d operations, full=%t): %w", nsvcs, tx.NumOperations(), full, err)
	}
	p.log.Debug("service rules applied", "services", nsvcs, "operations", tx.NumOperations(), "full", full, "took", time.Since(start))
	return nil
}

// Close deletes the table; the proxy can not be used after.
func (p *Proxy) Close(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	tx := p.nft.NewTransaction()
	// add-then-delete deletes whether or not the table exists.
	tx.Add(&knftables.Table{})
	tx.Delete(&knftables.Table{})
	if err := p.nft.Run(ctx, tx); err != nil {
		return fmt.Errorf("service proxy: delete table ip %s: %w", p.table, err)
	}
	if p.fast != nil {
		if err := p.fast.Close(); err != nil {
			p.log.Warn("close the netlink connection", "err", err)
		}
	}
	if c, ok := p.ct.(interface{ Close() }); ok {
		c.Close()
	}
	p.closed = true
	p.pieces, p.known = nil, false
	return nil
}
