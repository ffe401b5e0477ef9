// Command netbench measures TCP between two network namespaces: bulk
// throughput of one stream and request/response round trips. It is the
// project's own stand-in for iperf3/netperf, static so it can be packaged
// as a container image's only binary (see e2e/bench_test.go), and run the
// same way between pods and between two bare namespaces.
//
//	netbench serve ADDR            accept tests on ADDR (e.g. :5201)
//	netbench tput ADDR SECONDS     one stream for SECONDS, prints JSON
//	netbench rr ADDR COUNT SIZE    COUNT round trips of SIZE bytes, prints JSON
//	netbench tputpair ADDR1 ADDR2 SECONDS
//	                               one stream to each for SECONDS in all, taking
//	                               turns every half second, prints JSON
//	                               (gbit_per_s_1, gbit_per_s_2)
//	netbench rrpair ADDR1 ADDR2 COUNT SIZE
//	                               COUNT round trips of SIZE bytes on each of two
//	                               connections, taking turns every 100, prints
//	                               JSON (p50_us_1, p50_us_2, p99_us_1, p99_us_2)
//	netbench conn ADDR COUNT       COUNT new connections, each one byte there and
//	                               back then closed, prints JSON
//	netbench dns SERVER NAME COUNT WORKERS
//	                               COUNT A queries for NAME to SERVER (UDP, port
//	                               53 if none), WORKERS at once, prints JSON
//
// Round trips busy-poll their socket on both ends (as sockperf --busy-poll
// or netperf with spinning): a blocking read waits for the scheduler to
// wake it, and on a small VM that wakeup, not the path, decides the
// figure: the same pair measured ~10 µs or ~50 µs from one run to the
// next, by whether both ends happened to share a CPU.
//
//	netbench sleep                 block (a pod's placeholder process)
package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"syscall"
	"time"
)

const (
	modeThroughput = 'T'
	modeRoundTrip  = 'R'
	modeConnect    = 'C'
	chunk          = 128 << 10
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "netbench:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: netbench serve|tput|rr|sleep ARGS")
	}
	switch {
	case args[0] == "serve" && len(args) == 2:
		return serve(args[1])
	case args[0] == "tput" && len(args) == 3:
		secs, err := strconv.ParseFloat(args[2], 64)
		if err != nil {
			return fmt.Errorf("tput SECONDS %q: %w", args[2], err)
		}
		return throughput(args[1], time.Duration(secs*float64(time.Second)))
	case args[0] == "rr" && len(args) == 4:
		count, size, err := countAndSize("rr", args[2], args[3])
		if err != nil {
			return err
		}
		return roundTrips(args[1], count, size)
	case args[0] == "tputpair" && len(args) == 4:
		secs, err := strconv.ParseFloat(args[3], 64)
		if err != nil {
			return fmt.Errorf("tputpair SECONDS %q: %w", args[3], err)
		}
		return throughputPairs(args[1], args[2], time.Duration(secs*float64(time.Second)))
	case args[0] == "rrpair" && len(args) == 5:
		count, size, err := countAndSize("rrpair", args[3], args[4])
		if err != nil {
			return err
		}
		return roundTripPairs(args[1], args[2], count, size)
	case args[0] == "conn" && len(args) == 3:
		count, err := strconv.Atoi(args[2])
		if err != nil || count < 1 {
			return fmt.Errorf("conn COUNT %q: want a positive integer", args[2])
		}
		return connects(args[1], count)
	case args[0] == "dns" && len(args) == 5:
		count, err := strconv.Atoi(args[3])
		if err != nil || count < 1 {
			return fmt.Errorf("dns COUNT %q: want a positive integer", args[3])
		}
		workers, err := strconv.Atoi(args[4])
		if err != nil || workers < 1 {
			return fmt.Errorf("dns WORKERS %q: want a positive integer", args[4])
		}
		return dnsQueries(args[1], args[2], count, workers)
	case args[0] == "sleep":
		// Not select{}: with no other goroutine the runtime calls that a deadlock.
		for {
			time.Sleep(time.Hour)
		}
	}
	return fmt.Errorf("unknown command %q", args)
}

func serve(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			return fmt.Errorf("accept: %w", err)
		}
		go func() {
			defer c.Close()
			if err := handle(c); err != nil {
				fmt.Fprintln(os.Stderr, "netbench serve:", err)
			}
		}()
	}
}

func handle(c net.Conn) error {
	var hdr [5]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return fmt.Errorf("read header: %w", err)
	}
	switch hdr[0] {
	case modeThroughput:
		// Count what arrived and send the count back once the sender is
		// done, so the figure is what the receiver got, not what left.
		n, err := io.CopyBuffer(io.Discard, c, make([]byte, chunk))
		if err != nil {
			return fmt.Errorf("receive: %w", err)
		}
		return binary.Write(c, binary.BigEndian, n)
	case modeConnect:
		_, err := c.Write(hdr[:1])
		return err
	case modeRoundTrip:
		buf := make([]byte, binary.BigEndian.Uint32(hdr[1:]))
		for {
			// A request comes within microseconds while the client is
			// measuring this connection; a millisecond without one means
			// it measures another (rrpair).
			if err := spinThenWaitReadFull(c, buf, time.Millisecond); err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return fmt.Errorf("read request: %w", err)
			}
			if _, err := c.Write(buf); err != nil {
				return fmt.Errorf("write response: %w", err)
			}
		}
	}
	return fmt.Errorf("unknown mode %q", hdr[0])
}

func throughput(addr string, d time.Duration) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return fmt.Errorf("dial %s: %w", addr, err)
	}
	defer c.Close()
	if _, err := c.Write([]byte{modeThroughput, 0, 0, 0, 0}); err != nil {
		return fmt.Errorf("write header: %w", err)
	}
	buf := make([]byte, chunk)
	start := time.Now()
	for time.Since(start) < d {
		if _, err := c.Write(buf); err != nil {
			return fmt.Errorf("send: %w", err)
		}
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		return fmt.Errorf("close write: %w", err)
	}
	var got int64
	if err := binary.Read(c, binary.BigEndian, &got); err != nil {
		return fmt.Errorf("read receiver's count: %w", err)
	}
	secs := time.Since(start).Seconds()
	return json.NewEncoder(os.Stdout).Encode(map[string]float64{
		"bytes": float64(got), "seconds": secs, "gbit_per_s": float64(got) * 8 / secs / 1e9,
	})
}

// pairSlice is how long tputpair sends on one connection before it turns
// to the other.
const pairSlice = 500 * time.Millisecond

// throughputPairs compares two paths' throughput under the same
// conditions: one stream to each, sending in turns for pairSlice, d in
// all for each path. Each path's figure is what its receiver counted over
// the time the sender spent on it.
func throughputPairs(addr1, addr2 string, d time.Duration) error {
	var conns [2]*net.TCPConn
	for i, addr := range []string{addr1, addr2} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return fmt.Errorf("dial %s: %w", addr, err)
		}
		defer c.Close()
		if _, err := c.Write([]byte{modeThroughput, 0, 0, 0, 0}); err != nil {
			return fmt.Errorf("write header: %w", err)
		}
		conns[i] = c.(*net.TCPConn)
	}
	buf := make([]byte, chunk)
	var spent [2]time.Duration
	for n := 0; spent[0] < d || spent[1] < d; n++ {
		i := n % 2
		if spent[i] >= d {
			continue
		}
		start := time.Now()
		for time.Since(start) < pairSlice {
			if _, err := conns[i].Write(buf); err != nil {
				return fmt.Errorf("send: %w", err)
			}
		}
		spent[i] += time.Since(start)
	}
	out := map[string]float64{}
	for i, c := range conns {
		if err := c.CloseWrite(); err != nil {
			return fmt.Errorf("close write: %w", err)
		}
		var got int64
		if err := binary.Read(c, binary.BigEndian, &got); err != nil {
			return fmt.Errorf("read receiver's count: %w", err)
		}
		out[fmt.Sprintf("gbit_per_s_%d", i+1)] = float64(got) * 8 / spent[i].Seconds() / 1e9
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

func roundTrips(addr string, count, size int) error {
	c, err := dialRoundTrips(addr, size)
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, size)
	lat := make([]time.Duration, 0, count)
	start := time.Now()
	for range count {
		d, err := roundTrip(c, buf)
		if err != nil {
			return err
		}
		lat = append(lat, d)
	}
	total := time.Since(start)
	slices.Sort(lat)
	us := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) / 1e3 }
	return json.NewEncoder(os.Stdout).Encode(map[string]float64{
		"count": float64(count), "per_s": float64(count) / total.Seconds(),
		"p50_us": us(0.5), "p99_us": us(0.99),
	})
}

// pairBlock is how many round trips rrpair makes on one connection
// before it turns to the other.
const pairBlock = 100

// roundTripPairs compares two paths to a server under the same
// conditions: a hundred round trips on the first connection, then a
// hundred on the second, and so on. Two runs taken one after the other on a busy
// machine differ by more than the paths do.
func roundTripPairs(addr1, addr2 string, count, size int) error {
	var conns [2]net.Conn
	for i, addr := range []string{addr1, addr2} {
		c, err := dialRoundTrips(addr, size)
		if err != nil {
			return err
		}
		defer c.Close()
		conns[i] = c
	}
	buf := make([]byte, size)
	var lat [2][]time.Duration
	for n := range 2 * count {
		// Blocks of pairBlock round trips, taking turns: the server of
		// the connection left idle sleeps (spinning for both would take
		// more CPUs than a small VM has), and its first round trip of a
		// block, slowed by the wakeup, stays out of the median.
		i := (n / pairBlock) % 2
		d, err := roundTrip(conns[i], buf)
		if err != nil {
			return err
		}
		lat[i] = append(lat[i], d)
	}
	out := map[string]float64{"count": float64(count)}
	for i := range lat {
		slices.Sort(lat[i])
		us := func(p float64) float64 { return float64(lat[i][int(p*float64(len(lat[i])-1))].Nanoseconds()) / 1e3 }
		out[fmt.Sprintf("p50_us_%d", i+1)] = us(0.5)
		out[fmt.Sprintf("p99_us_%d", i+1)] = us(0.99)
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

// dialRoundTrips opens a round-trip test of size-byte messages.
func dialRoundTrips(addr string, size int) (net.Conn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	hdr := []byte{modeRoundTrip, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(hdr[1:], uint32(size))
	if _, err := c.Write(hdr); err != nil {
		c.Close()
		return nil, fmt.Errorf("write header: %w", err)
	}
	return c, nil
}

// roundTrip sends buf and reads it back, busy-polling.
func roundTrip(c net.Conn, buf []byte) (time.Duration, error) {
	t := time.Now()
	if _, err := c.Write(buf); err != nil {
		return 0, fmt.Errorf("send request: %w", err)
	}
	if err := spinReadFull(c, buf); err != nil {
		return 0, fmt.Errorf("read response: %w", err)
	}
	return time.Since(t), nil
}

// connects opens count connections one after the other; each sends its
// header and waits for the server's one byte before closing, so a
// connection counts once both ends have it.
func connects(addr string, count int) error {
	lat := make([]time.Duration, 0, count)
	hdr := []byte{modeConnect, 0, 0, 0, 0}
	var one [1]byte
	start := time.Now()
	for range count {
		t := time.Now()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return fmt.Errorf("dial %s: %w", addr, err)
		}
		if _, err := c.Write(hdr); err != nil {
			c.Close()
			return fmt.Errorf("write header: %w", err)
		}
		if _, err := io.ReadFull(c, one[:]); err != nil {
			c.Close()
			return fmt.Errorf("read answer: %w", err)
		}
		c.Close()
		lat = append(lat, time.Since(t))
	}
	return report(lat, time.Since(start))
}

// report prints count, rate and latency quantiles of lat, taken over total.
func report(lat []time.Duration, total time.Duration) error {
	slices.Sort(lat)
	us := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) / 1e3 }
	return json.NewEncoder(os.Stdout).Encode(map[string]float64{
		"count": float64(len(lat)), "per_s": float64(len(lat)) / total.Seconds(),
		"p50_us": us(0.5), "p99_us": us(0.99),
	})
}

// spinReadFull fills buf from c without ever parking in the netpoller:
// it retries the non-blocking read until data is there.
func spinReadFull(c net.Conn, buf []byte) error { return spinThenWaitReadFull(c, buf, 0) }

// spinThenWaitReadFull busy-polls as spinReadFull for up to spin (0:
// without end), then waits in the netpoller: a server's connection that
// a pair test leaves idle stops taking a CPU from the one being measured.
func spinThenWaitReadFull(c net.Conn, buf []byte, spin time.Duration) error {
	sc, ok := c.(syscall.Conn)
	if !ok {
		_, err := io.ReadFull(c, buf)
		return err
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	start := time.Now()
	for got := 0; got < len(buf); {
		var n int
		var rerr error
		spinning := spin == 0 || time.Since(start) < spin
		if err := rc.Read(func(fd uintptr) bool {
			n, rerr = syscall.Read(int(fd), buf[got:])
			// Spinning, done either way: the loop, not the netpoller,
			// waits. Else EAGAIN parks until the socket is readable.
			return spinning || rerr != syscall.EAGAIN
		}); err != nil {
			return err
		}
		switch {
		case rerr == syscall.EAGAIN || rerr == syscall.EINTR:
			continue
		case rerr != nil:
			return rerr
		case n == 0:
			if got == 0 {
				return io.EOF
			}
			return io.ErrUnexpectedEOF
		}
		got += n
	}
	return nil
}

// countAndSize reads the round-trip modes' COUNT (positive) and SIZE
// (1..chunk) arguments.
func countAndSize(mode, countArg, sizeArg string) (count, size int, err error) {
	count, err = strconv.Atoi(countArg)
	if err != nil || count < 1 {
		return 0, 0, fmt.Errorf("%s COUNT %q: want a positive integer", mode, countArg)
	}
	size, err = strconv.Atoi(sizeArg)
	if err != nil || size < 1 || size > chunk {
		return 0, 0, fmt.Errorf("%s SIZE %q: want 1..%d", mode, sizeArg, chunk)
	}
	return count, size, nil
}
