package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/shoal-dev/shoal/consensus"
)

// BenchmarkWatchFanOut is issue 29's watch fan-out: watchers of the pods
// of one namespace over HTTP, pods stored, one pod relabelled per
// iteration; each iteration waits until every watcher has read its event,
// so the time and the CPU (user+system of the whole process, watchers'
// readers included) are those of delivering one write to all of them.
// cpu-ms/write should grow with watchers and stay flat with stored pods.
// Run it with -benchtime 1000x (the 1,000 writes).
func BenchmarkWatchFanOut(b *testing.B) {
	for _, c := range []struct{ watchers, pods int }{{100, 5000}, {100, 500}, {10, 5000}} {
		b.Run(fmt.Sprintf("watchers=%d/pods=%d", c.watchers, c.pods), func(b *testing.B) {
			benchWatchFanOut(b, c.watchers, c.pods)
		})
	}
}

func benchWatchFanOut(b *testing.B, watchers, pods int) {
	fsm := consensus.NewFSM()
	var index uint64
	apply := func(cmd consensus.Command) {
		data, err := consensus.EncodeCommand(cmd)
		if err != nil {
			b.Fatal(err)
		}
		index++
		if err, ok := fsm.Apply(&raft.Log{Index: index, Data: data}).(error); ok {
			b.Fatal(err)
		}
	}
	podCmd := func(name string, gen int) consensus.ApplyPod {
		// Built from JSON so that it does not depend on api's Go fields.
		var c consensus.ApplyPod
		js := fmt.Sprintf(`{"pod":{"apiVersion":"v1","kind":"Pod","metadata":{"name":%q,"namespace":"default","labels":{"app":"bench","gen":"%d"}},
			"spec":{"containers":[{"name":"app","image":"shoal.local/busybox:1","resources":{"requests":{"memory":"64Mi"}}}]}},
			"uid":"uid-%s","time":"2026-01-01T00:00:00Z"}`, name, gen, name)
		if err := json.Unmarshal([]byte(js), &c); err != nil {
			b.Fatal(err)
		}
		return c
	}
	for i := range pods {
		apply(podCmd("pod-"+strconv.Itoa(i), 0))
	}

	a := &Agent{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	a.role.Store(&serverRole{fsm: fsm, raft: followerSeat{}})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/namespaces/{ns}/pods", a.negotiate(kubeRoute{method: "GET", version: "v1", resource: "pods", namespaced: true}, a.listPods))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var seen atomic.Int64
	progress := make(chan struct{}, 1)
	from := strconv.FormatUint(index, 10)
	for range watchers {
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v1/namespaces/default/pods?watch=1&resourceVersion="+from, nil)
		resp, err := srv.Client().Do(req)
		if err != nil {
			b.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("watch: HTTP %d", resp.StatusCode)
		}
		go func() {
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				seen.Add(1)
				select {
				case progress <- struct{}{}:
				default:
				}
			}
		}()
	}
	waitSeen := func(want int64) {
		deadline := time.After(time.Minute)
		for seen.Load() < want {
			select {
			case <-progress:
			case <-deadline:
				b.Fatalf("watchers read %d events, want %d", seen.Load(), want)
			}
		}
	}

	var before syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	b.ResetTimer()
	for i := range b.N {
		apply(podCmd("pod-"+strconv.Itoa(i%pods), i+1))
		waitSeen(int64(watchers) * int64(i+1))
	}
	b.StopTimer()
	var after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) * time.Nanosecond
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/write")
}
