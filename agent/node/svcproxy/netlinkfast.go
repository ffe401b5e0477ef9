package svcproxy

import (
	"context"
	"fmt"
	"maps"
	"sort"

	gnft "github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/shoal-dev/shoal/netplane/nsthread"
)

// Most changes only move the endpoints of Services without affinity: the
// one rule of their chains changes and nothing else. Through nft such a
// change costs 20-30 ms on a table of 1,000 Services whatever its size,
// because nft loads its cache of the whole table (every chain, the verdict
// maps' elements) before it adds a rule. Over netlink the same change is
// one batch of its own (flush each chain, add its anonymous map and rule):
// still one atomic transaction, in about a millisecond. Anything else
// (Services, ports, affinity, no-endpoint entries) goes through nft.

// fastNFT replaces the rules of service chains over netlink.
type fastNFT interface {
	ReplaceDNAT(ctx context.Context, want *ruleset, chains []string) error
	// Close releases the connection; the next ReplaceDNAT opens another.
	Close() error
}

// fastChanges returns the service chains whose DNAT rule is all that
// differs between have and want, sorted, or false when anything else
// differs.
func fastChanges(have, want *ruleset) ([]string, bool) {
	if len(have.chains) != len(want.chains) || !maps.Equal(have.affinity, want.affinity) {
		return nil, false
	}
	for name, m := range want.maps {
		if !maps.Equal(m, have.maps[name]) {
			return nil, false
		}
	}
	var changed []string
	for name, rules := range want.chains {
		old, ok := have.chains[name]
		if !ok {
			return nil, false
		}
		if chainsEqual(old, rules) {
			continue
		}
		if _, ok := want.dnat[name]; !ok {
			return nil, false
		}
		if _, ok := have.dnat[name]; !ok {
			return nil, false
		}
		changed = append(changed, name)
	}
	sort.Strings(changed)
	return changed, true
}

// dnatData is a numgen map's value type: an IPv4 address and a port, each
// padded to a 4-byte register as nft concatenates them.
var dnatData = gnft.MustConcatSetType(gnft.TypeIPAddr, gnft.TypeInetService)

// nlTables writes the ip-family table over netlink in the namespace at
// path ("" for the caller's own). Its caller serializes its calls (the
// Proxy's lock).
type nlTables struct {
	path, table string
	// conn is the lasting connection, opened in the namespace on first
	// use and dropped after any failure (it may hold queued messages).
	conn *gnft.Conn
}

// open returns the lasting connection, dialled inside the namespace: a
// netlink socket stays in the namespace it was made in.
func (n *nlTables) open() (*gnft.Conn, error) {
	if n.conn != nil {
		return n.conn, nil
	}
	err := nsthread.Run(n.path, func() error {
		c, err := gnft.New(gnft.AsLasting())
		n.conn = c
		return err
	})
	if err != nil {
		n.conn = nil
		return nil, fmt.Errorf("open netlink in netns %q: %w", n.path, err)
	}
	return n.conn, nil
}

// Close closes the lasting connection, if open.
func (n *nlTables) Close() error {
	if n.conn == nil {
		return nil
	}
	err := n.conn.CloseLasting()
	n.conn = nil
	return err
}

// ReplaceDNAT writes, in one batch, each chain's rule as nft would from
// the rule's text: meta l4proto, numgen random mod N, a lookup in an
// anonymous constant map from the number (host byte order) to address .
// port, and dnat from registers 1 and 9 (the map's data spans both).
func (n *nlTables) ReplaceDNAT(ctx context.Context, want *ruleset, chains []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := n.open()
	if err != nil {
		return err
	}
	if err := n.writeDNAT(c, want, chains); err != nil {
		_ = n.Close()
		return fmt.Errorf("netlink update of %d service chains in netns %q: %w", len(chains), n.path, err)
	}
	return nil
}

func (n *nlTables) writeDNAT(c *gnft.Conn, want *ruleset, chains []string) error {
	tbl := &gnft.Table{Family: gnft.TableFamilyIPv4, Name: n.table}
	for _, name := range chains {
		d := want.dnat[name]
		var proto byte
		switch d.proto {
		case TCP:
			proto = unix.IPPROTO_TCP
		case UDP:
			proto = unix.IPPROTO_UDP
		default:
			return fmt.Errorf("chain %s: protocol %q", name, d.proto)
		}
		chain := &gnft.Chain{Name: name, Table: tbl}
		c.FlushChain(chain)
		set := &gnft.Set{
			Table: tbl, Anonymous: true, Constant: true, IsMap: true,
			KeyType: gnft.TypeInteger, KeyByteOrder: binaryutil.NativeEndian, DataType: dnatData,
		}
		elems := make([]gnft.SetElement, len(d.targets))
		for i, t := range d.targets {
			a := t.addr.As4()
			elems[i] = gnft.SetElement{
				Key: binaryutil.NativeEndian.PutUint32(uint32(i)),
				Val: []byte{a[0], a[1], a[2], a[3], byte(t.port >> 8), byte(t.port), 0, 0},
			}
		}
		if err := c.AddSet(set, elems); err != nil {
			return fmt.Errorf("chain %s: map: %w", name, err)
		}
		c.AddRule(&gnft.Rule{Table: tbl, Chain: chain, Exprs: []expr.Any{
			&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
			&expr.Numgen{Register: 1, Type: unix.NFT_NG_RANDOM, Modulus: uint32(len(d.targets))},
			&expr.Lookup{SourceRegister: 1, DestRegister: 1, IsDestRegSet: true, SetName: set.Name, SetID: set.ID},
			&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 9},
		}})
	}
	return c.Flush()
}
