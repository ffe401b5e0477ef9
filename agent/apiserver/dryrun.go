package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/shoal-dev/shoal/consensus"
)

// A write with ?dryRun=All (kubectl diff, apply --dry-run=server) runs
// every step of the real write (decoding, defaulting, validation, the
// state's own checks against what is stored) on the leader, but its
// command is applied to a copy of the state, never to the log. The
// request's context carries the mark from the route to the one place
// that writes, so no handler has a dry-run branch of its own.

type dryRunKey struct{}

func isDryRun(ctx context.Context) bool {
	v, _ := ctx.Value(dryRunKey{}).(bool)
	return v
}

// dryRunner is the state that can answer a command without storing it
// (consensus.FSM.DryRun).
type dryRunner interface {
	DryRun(cmd consensus.Command) (*consensus.Result, error)
}

// dryRunnable marks a write's context when it asks for a dry run, and
// refuses a dryRun value Kubernetes does not define.
func (srv *Server) dryRunnable(h func(http.ResponseWriter, *http.Request)) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		values := r.URL.Query()["dryRun"]
		if len(values) == 0 {
			h(w, r)
			return
		}
		for _, v := range values {
			if v != "All" {
				writeError(w, srv.log, &badRequest{reason: "BadRequest", code: http.StatusBadRequest,
					err: fmt.Errorf("dryRun: Unsupported value: %q: supported values: \"All\"", v)})
				return
			}
		}
		h(w, r.WithContext(context.WithValue(r.Context(), dryRunKey{}, true)))
	}
}

// dryRunLog is the seat's log, except that a dry-run request's command
// goes to the local state's DryRun. Writes run on the leader (viaLeader
// forwards them with their query), so the copy is the leader's state.
type dryRunLog struct {
	Log
	store Store
}

func (l dryRunLog) Apply(ctx context.Context, cmd consensus.Command) (*consensus.Result, error) {
	if !isDryRun(ctx) {
		return l.Log.Apply(ctx, cmd)
	}
	dr, ok := l.store.(dryRunner)
	if !ok {
		return nil, &badRequest{reason: "BadRequest", code: http.StatusBadRequest,
			err: errors.New("server-side dry run is not available on this server")}
	}
	return dr.DryRun(cmd)
}
