package agent

import (
	"time"

	"github.com/hashicorp/memberlist"
)

// simLargeGossip is what a large sim changes in memberlist beyond the
// large profile's timings (docs/scale.md, "Gossip in a large sim").
func simLargeGossip(mc *memberlist.Config) {
	mc.PushPullInterval = simPushPull
}

// simPushPull is the large sim's push-pull interval before memberlist
// scales it with the fleet (x5 at 300 members, x6 at 1,000).
const simPushPull = 30 * time.Second
