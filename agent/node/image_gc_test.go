package node

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"
)

type countingCollector struct {
	runs atomic.Int32
	done chan struct{}
}

func (c *countingCollector) CollectImages(context.Context) ([]string, error) {
	if c.runs.Add(1) == 3 {
		close(c.done)
	}
	return nil, errors.New("disk full of pinned images")
}

// The collector runs at once, then on every tick, an error does not stop
// it, and it ends with its context.
func TestImageGCRunsAtOnceAndOnEveryTickUntilItsContextEnds(t *testing.T) {
	c := &countingCollector{done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		RunImageGC(ctx, c, time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
		close(stopped)
	}()
	<-c.done
	cancel()
	<-stopped
	if n := c.runs.Load(); n < 3 {
		t.Fatalf("%d runs, want at least 3", n)
	}
}
