package consensus

import (
	"context"
	"fmt"

	"github.com/hashicorp/raft"
)

// AddNonvoter adds a server that receives the log but does not vote: a
// server that returns after the fleet gave its seat away rejoins this way,
// with a current state and without changing the quorum. Leader only.
func (r *Raft) AddNonvoter(ctx context.Context, id, addr string) error {
	f := r.raft.AddNonvoter(raft.ServerID(id), raft.ServerAddress(addr), 0, timeoutOf(ctx))
	defer r.nudgeCommit()
	if err := waitFuture(ctx, f); err != nil {
		return fmt.Errorf("add nonvoter %s at %s: %w", id, addr, err)
	}
	return nil
}
