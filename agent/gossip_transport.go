package agent

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// copyingTransport is memberlist's NetTransport (UDP packets, a TCP
// connection per stream) with what a sim of hundreds of agents in one
// process cannot afford taken out, and what every real agent gossips over
// too (membership_transport.go: at idle the 64 KiB buffers were most of an
// agent's allocations): NetTransport reads every UDP packet
// into a fresh 64 KiB buffer, which Go zeroes, and resolves the
// destination's address on every send. In a 300-node sim that zeroing was
// 48% of the process's CPU and most of its allocations (docs/scale.md):
// constant per packet, but every agent's packets land on the same cores
// and the same heap. Here each listener reads into one buffer of its own
// and hands memberlist a copy of the packet's own size, and a send parses
// an ip:port without a lookup. What memberlist sees is the same: the same
// packets, timestamps and streams.
type copyingTransport struct {
	tcp      *net.TCPListener
	udp      *net.UDPConn
	packetCh chan *memberlist.Packet
	streamCh chan net.Conn
	log      *slog.Logger
	wg       sync.WaitGroup
	down     atomic.Bool
}

var _ memberlist.NodeAwareTransport = (*copyingTransport)(nil)

// udpMaxPacket is the largest UDP payload, the read buffer's size.
const udpMaxPacket = 65536

// newCopyingTransport listens on addr:port, TCP and UDP (port 0: one the
// kernel picks, the same for both).
func newCopyingTransport(addr string, port int, log *slog.Logger) (*copyingTransport, error) {
	ip := net.ParseIP(addr)
	if ip == nil {
		return nil, fmt.Errorf("gossip bind address %q: not an IP address", addr)
	}
	tcp, err := net.ListenTCP("tcp", &net.TCPAddr{IP: ip, Port: port})
	if err != nil {
		return nil, fmt.Errorf("gossip TCP listener on %s: %w", hostPort(addr, port), err)
	}
	if port == 0 {
		port = tcp.Addr().(*net.TCPAddr).Port
	}
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: port})
	if err != nil {
		tcp.Close()
		return nil, fmt.Errorf("gossip UDP listener on %s: %w", hostPort(addr, port), err)
	}
	// As NetTransport does: room for a burst (a join storm) the handler
	// has not read yet; the kernel may grant less.
	for size := 2 << 20; size > 0; size /= 2 {
		if udp.SetReadBuffer(size) == nil {
			break
		}
	}
	t := &copyingTransport{tcp: tcp, udp: udp, packetCh: make(chan *memberlist.Packet), streamCh: make(chan net.Conn), log: log}
	t.wg.Add(2)
	go t.acceptStreams()
	go t.readPackets()
	return t, nil
}

// FinalAdvertiseAddr is the configured address, or the one listened on.
func (t *copyingTransport) FinalAdvertiseAddr(ip string, port int) (net.IP, int, error) {
	if ip != "" {
		a := net.ParseIP(ip)
		if a == nil {
			return nil, 0, fmt.Errorf("gossip advertise address %q: not an IP address", ip)
		}
		if a4 := a.To4(); a4 != nil {
			a = a4
		}
		return a, port, nil
	}
	la := t.tcp.Addr().(*net.TCPAddr)
	if la.IP.IsUnspecified() {
		return nil, 0, errors.New("gossip listens on every address: give an address to advertise")
	}
	return la.IP, la.Port, nil
}

func (t *copyingTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}

// WriteToAddress sends one packet; an ip:port is parsed without a lookup.
func (t *copyingTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	if ap, err := netip.ParseAddrPort(a.Addr); err == nil {
		_, err = t.udp.WriteToUDPAddrPort(b, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
		return time.Now(), err
	}
	ua, err := net.ResolveUDPAddr("udp", a.Addr)
	if err != nil {
		return time.Time{}, err
	}
	_, err = t.udp.WriteTo(b, ua)
	return time.Now(), err
}

func (t *copyingTransport) PacketCh() <-chan *memberlist.Packet { return t.packetCh }

func (t *copyingTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

func (t *copyingTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	return d.Dial("tcp", a.Addr)
}

func (t *copyingTransport) StreamCh() <-chan net.Conn { return t.streamCh }

// Shutdown closes both listeners and waits for their loops.
func (t *copyingTransport) Shutdown() error {
	t.down.Store(true)
	t.tcp.Close()
	t.udp.Close()
	t.wg.Wait()
	return nil
}

func (t *copyingTransport) acceptStreams() {
	defer t.wg.Done()
	delay := time.Duration(0)
	for {
		c, err := t.tcp.AcceptTCP()
		if err != nil {
			if t.down.Load() {
				return
			}
			// Back off as NetTransport does (5 ms doubling to 1 s).
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			t.log.Warn("gossip: accept TCP connection", "err", err)
			time.Sleep(delay)
			continue
		}
		delay = 0
		t.streamCh <- c
	}
}

func (t *copyingTransport) readPackets() {
	defer t.wg.Done()
	buf := make([]byte, udpMaxPacket)
	for {
		n, from, err := t.udp.ReadFromUDP(buf)
		ts := time.Now()
		if err != nil {
			if t.down.Load() {
				return
			}
			t.log.Warn("gossip: read UDP packet", "err", err)
			continue
		}
		if n < 1 {
			continue // memberlist needs a message type byte
		}
		// memberlist keeps the packet past this loop's next read.
		t.packetCh <- &memberlist.Packet{Buf: append([]byte(nil), buf[:n]...), From: from, Timestamp: ts}
	}
}

// copyingTransportFor gives mc a copyingTransport on its bind address and port.
func copyingTransportFor(mc *memberlist.Config, log *slog.Logger) error {
	t, err := newCopyingTransport(mc.BindAddr, mc.BindPort, log)
	if err != nil {
		return err
	}
	mc.Transport = t
	if mc.BindPort == 0 { // as memberlist does with its own transport
		mc.AdvertisePort = t.tcp.Addr().(*net.TCPAddr).Port
	}
	return nil
}
