package apiserver

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
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
	l := newWatchLab(b, 0)
	for i := range pods {
		l.putPod("pod-"+strconv.Itoa(i), map[string]string{"app": "bench", "gen": "0"})
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var seen atomic.Int64
	progress := make(chan struct{}, 1)
	from := strconv.FormatUint(l.index, 10)
	for range watchers {
		req, _ := http.NewRequestWithContext(ctx, "GET", l.url+"?watch=1&resourceVersion="+from, nil)
		resp, err := http.DefaultClient.Do(req)
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
		l.putPod("pod-"+strconv.Itoa(i%pods), map[string]string{"app": "bench", "gen": strconv.Itoa(i + 1)})
		waitSeen(int64(watchers) * int64(i+1))
	}
	b.StopTimer()
	var after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/write")
}
