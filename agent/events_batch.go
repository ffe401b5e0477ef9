package agent

import (
	"context"
	"time"

	"github.com/shoal-dev/shoal/agent/controllers"
	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// LeaderEvents stores the events of one placement pass in one RecordEvents
// entry, in the background like recordLeaderEvent (events.go): one entry
// per Scheduled event made a pass of 1,000 binds 1,000 more entries.
func (e leaderEvents) LeaderEvents(events []controllers.LeaderEvent) {
	now := time.Now()
	evs := make([]api.Event, len(events))
	for i, ev := range events {
		evs[i] = podEventOf(ev.Pod, ev.Type, ev.Reason, ev.Message, sourceScheduler, "", now)
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := e.a.raft().Apply(ctx, consensus.RecordEvents{Events: evs}); err != nil {
			e.a.log.Debug("record events", "events", len(evs), "err", err)
		}
	}()
}

var _ controllers.BatchRecorder = leaderEvents{}
