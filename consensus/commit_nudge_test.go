package consensus

import (
	"testing"
	"time"
)

// With a CommitTimeout that never fires, a follower learns that a write
// committed only from the leader's nudge: the write's own AppendEntries
// carried the commit index from before it, and heartbeats carry none.
func TestFollowersLearnACommitWithoutTheCommitTimeout(t *testing.T) {
	c := NewTestCluster(t, 3, WithCommitTimeout(time.Hour))
	leader := c.Leader()
	for i, name := range []string{"web", "db"} {
		res := applyOK(t, leader.Raft, create(name, "10Mi"))
		for _, f := range c.Followers(leader) {
			deadline := time.Now().Add(10 * time.Second)
			for f.Raft.CommitIndex() < res.Index {
				if time.Now().After(deadline) {
					t.Fatalf("write %d: %s knows entries up to %d committed, never the write's %d", i, f.ID, f.Raft.CommitIndex(), res.Index)
				}
				time.Sleep(5 * time.Millisecond)
			}
			c.WaitApplied(f, res.Index)
		}
	}
}
