package main

import (
	"context"
)

// markLeader turns the ROLES cell of the Raft leader's row into
// "server,leader", asking the agent the CLI talks to who leads. A client
// agent does not know; then the column keeps server/client.
func markLeader(ctx context.Context, c *client, header []string, rows [][]string) {
	col := -1
	for i, h := range header {
		if h == "ROLES" {
			col = i
		}
	}
	if col < 0 {
		return
	}
	var cl struct {
		Leader string `json:"leader"`
	}
	if err := c.getJSON(ctx, "/shoal/v1/cluster", &cl); err != nil || cl.Leader == "" {
		return
	}
	for _, r := range rows {
		if len(r) > col && r[0] == cl.Leader {
			r[col] = "server,leader"
		}
	}
}
