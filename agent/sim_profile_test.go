package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// simRSSLimitMiB is where a sim test stops itself: the machine has 24 GiB
// and others share it (a 1,000-node run once reached 18.4 GiB).
const simRSSLimitMiB = 14 << 10

// simMemoryLimit is the soft limit a sim test gives Go's collector when
// GOMEMLIMIT does not name one. The tests run with GOGC=400 (one heap holds
// every agent, and collecting it less often saves CPU the agents share),
// which lets the heap grow to five times what is live: a 600-node start
// held 1.7 GiB live and 9 GiB of RSS (docs/scale.md, session 22), and a
// 1,000-node one holds more than twice as much live. Near the limit the
// collector runs as often as it must instead.
const simMemoryLimit = 10 << 30

// limitSimMemory sets simMemoryLimit unless GOMEMLIMIT is set, and puts
// the limit back when the test ends.
func limitSimMemory(t *testing.T) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	was := debug.SetMemoryLimit(simMemoryLimit)
	t.Cleanup(func() { debug.SetMemoryLimit(was) })
}

// simGossipFromEnv is the sim tests' experiments with memberlist's
// settings, applied after the sim's own: SHOAL_SIM_PUSHPULL (push-pull
// interval), SHOAL_SIM_RETRANSMIT (RetransmitMult), SHOAL_SIM_GOSSIP_NODES
// (GossipNodes), SHOAL_SIM_PROBE_INTERVAL and SHOAL_SIM_PROBE_TIMEOUT.
// It returns nil and "as the sim's" when none is set, else the settings
// changed, for the log and the result's variant.
func simGossipFromEnv() (func(*memberlist.Config), string) {
	dur := func(name string) time.Duration {
		d, _ := time.ParseDuration(os.Getenv(name))
		return d
	}
	pp, pi, pt := dur("SHOAL_SIM_PUSHPULL"), dur("SHOAL_SIM_PROBE_INTERVAL"), dur("SHOAL_SIM_PROBE_TIMEOUT")
	rt, gn := envInt("SHOAL_SIM_RETRANSMIT", 0), envInt("SHOAL_SIM_GOSSIP_NODES", 0)
	var said []string
	for _, c := range []struct {
		name string
		set  bool
		v    any
	}{{"push-pull", pp > 0, pp}, {"probe interval", pi > 0, pi}, {"probe timeout", pt > 0, pt}, {"retransmit x", rt > 0, rt}, {"gossip to", gn > 0, gn}} {
		if c.set {
			said = append(said, fmt.Sprint(c.name, " ", c.v))
		}
	}
	if len(said) == 0 {
		return nil, "as the sim's"
	}
	return func(mc *memberlist.Config) {
		if pp > 0 {
			mc.PushPullInterval = pp
		}
		if pi > 0 {
			mc.ProbeInterval = pi
		}
		if pt > 0 {
			mc.ProbeTimeout = pt
		}
		if rt > 0 {
			mc.RetransmitMult = rt
		}
		if gn > 0 {
			mc.GossipNodes = gn
		}
	}, strings.Join(said, ", ")
}

// simProfiles writes a sim test's profiles into a directory, one set per
// window of the run: the CPU profile of the window, and at its end the
// goroutines, the mutex contention and the blocking so far. Off (every
// method a no-op) without a directory.
type simProfiles struct {
	t    *testing.T
	dir  string
	cpu  *os.File
	next int
	due  time.Duration // the end of the current window
}

// simProfileWindow is how long each window of simProfiles lasts.
const simProfileWindow = 15 * time.Second

func startSimProfiles(t *testing.T, dir string) *simProfiles {
	p := &simProfiles{t: t, dir: dir, due: simProfileWindow}
	if dir == "" {
		return p
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// One in 20 contended lock events and one sample per 10 ms blocked:
	// enough to rank, cheap enough not to change the run.
	runtime.SetMutexProfileFraction(20)
	runtime.SetBlockProfileRate(int(10 * time.Millisecond))
	p.startCPU(0)
	return p
}

func (p *simProfiles) startCPU(el time.Duration) {
	f, err := os.Create(filepath.Join(p.dir, fmt.Sprintf("cpu-%03d-%03.0fs.pb.gz", p.next, el.Seconds())))
	if err != nil {
		p.t.Logf("profile: %v", err)
		return
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		p.t.Logf("profile: %v", err)
		f.Close()
		return
	}
	p.cpu = f
}

// window, once the current window is over at el, closes its CPU profile,
// writes the others and starts the next window's.
func (p *simProfiles) window(el time.Duration) {
	if p.dir == "" || el < p.due {
		return
	}
	p.due = el + simProfileWindow
	p.stopCPU()
	for _, name := range []string{"goroutine", "mutex", "block", "heap"} {
		f, err := os.Create(filepath.Join(p.dir, fmt.Sprintf("%s-%03d-%03.0fs.pb.gz", name, p.next, el.Seconds())))
		if err != nil {
			p.t.Logf("profile: %v", err)
			continue
		}
		if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
			p.t.Logf("profile %s: %v", name, err)
		}
		f.Close()
	}
	p.next++
	p.startCPU(el)
}

func (p *simProfiles) stopCPU() {
	if p.cpu != nil {
		pprof.StopCPUProfile()
		p.cpu.Close()
		p.cpu = nil
	}
}

func (p *simProfiles) stop() {
	if p.dir == "" {
		return
	}
	p.stopCPU()
	runtime.SetMutexProfileFraction(0)
	runtime.SetBlockProfileRate(0)
}
