package node

import "time"

// recheckRefused is the longest the reconciler waits before it looks
// again at a view the fence did not let it act on (a server not yet
// caught up with the leader's index, a node out of contact). Its next
// query is a held one: the server answers only when something of this
// node's changes or the wait is up, and a refused view changes nothing
// there. With the steady resync as the wait, a replacement bound to a
// client just as the leader promoted it to a seat started 30 s after
// its bind (`shoal lab chaos`, seed 2, kill-leader), and a server cut
// off kept its pods (cutoff.go) only that often.
const recheckRefused = time.Second

// queryWait is the wait of the reconciler's next assignments query.
func queryWait(resync time.Duration, refused bool) time.Duration {
	if refused && resync > recheckRefused {
		return recheckRefused
	}
	return resync
}
