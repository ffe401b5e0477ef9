package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"k8s.io/streaming/pkg/httpstream/wsstream"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/podruntime"
)

// podAttach serves GET|POST .../pods/{name}/attach (kubectl attach) over
// the same WebSocket protocol as exec: the container's output from now
// on, until it exits or the client leaves. A container's output goes to
// its log file (podruntime/logio.go), so both streams arrive on stdout; shoal
// starts containers without an open stdin (spec.containers[].stdin is
// not supported), so attach -i is refused by name.
func (srv *Server) podAttach(w http.ResponseWriter, r *http.Request, t podTarget) {
	q := r.URL.Query()
	if boolParam(q.Get("stdin")) {
		writeError(w, srv.log, invalid(&api.FieldError{Path: "stdin", Value: "true",
			Detail: "not supported by shoal: containers run without an open stdin (kubectl attach without -i shows their output)"}))
		return
	}
	if !boolParam(q.Get("stdout")) && !boolParam(q.Get("stderr")) {
		writeError(w, srv.log, invalid(&api.FieldError{Path: "stdout", Detail: "you must specify at least one of stdin, stdout, stderr"}))
		return
	}
	if !wsstream.IsWebSocketRequest(r) {
		writeError(w, srv.log, &badRequest{reason: "BadRequest", code: http.StatusBadRequest,
			err: errors.New("attach needs a WebSocket upgrade with subprotocol v5.channel.k8s.io (kubectl 1.29 or later)")})
		return
	}
	rt := srv.runtime()
	if rt == nil {
		writeError(w, srv.log, errNoRuntime)
		return
	}
	conn, streams, err := openChannels(w, r, false, false)
	if err != nil {
		srv.log.Debug("attach: websocket handshake", "pod", t.name, "err", err)
		return
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	err = rt.Logs(ctx, t.uid, t.container, podruntime.LogOptions{Follow: true, TailLines: 0}, streams[chanStdout])
	st := api.Status{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: "Success"}
	if err != nil && ctx.Err() == nil {
		st = api.Status{TypeMeta: st.TypeMeta, Status: "Failure", Reason: "InternalError", Message: "attach: " + err.Error()}
	}
	b, _ := json.Marshal(st)
	if _, err := streams[chanError].Write(b); err != nil {
		srv.log.Debug("attach: write status", "err", err)
	}
}
