package apiserver

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// deleteCollection is DELETE on a kind's collection (client-go's
// DeleteCollection, the deletecollection verb): every object the label
// and field selectors take, each deleted as its own DELETE would with the
// request's DeleteOptions, as Kubernetes' registry does (one write per
// object, not one transaction). It answers the kind's List of what it
// deleted; an object that went meanwhile is skipped, and the first other
// error stops it, leaving what was deleted so far deleted.
func (srv *Server) deleteCollection(res writable) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(r) // the DeleteOptions, read again for every object
		if err != nil {
			writeError(w, srv.log, err)
			return
		}
		items, idx, err := srv.selected(r, res)
		if err != nil {
			writeError(w, srv.log, err)
			return
		}
		deleted := make([]api.Object, 0, len(items))
		for _, cur := range items {
			one := r.Clone(r.Context())
			one.Body = io.NopCloser(bytes.NewReader(body))
			cmd, err := res.remove(one, cur)
			if err != nil {
				writeError(w, srv.log, err)
				return
			}
			out, err := srv.raft().Apply(r.Context(), cmd)
			var nf *consensus.NotFoundError
			switch {
			case errors.As(err, &nf):
				continue
			case err != nil:
				writeError(w, srv.log, err)
				return
			}
			deleted, idx = append(deleted, cur), out.Index
		}
		w.Header().Set(indexHeader, strconv.FormatUint(idx, 10))
		srv.writeList(w, res, deleted, idx)
	}
}
