package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"k8s.io/streaming/pkg/httpstream/wsstream"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/podruntime"
)

// The remote command channels of Kubernetes' WebSocket protocol, the one
// kubectl 1.32 and `shoal exec` speak: each message starts with its channel.
const (
	chanStdin  = 0
	chanStdout = 1
	chanStderr = 2
	chanError  = 3
	chanResize = 4
)

// The subprotocols served; v5 adds the close signal that ends stdin
// without closing the connection (kubectl exec < file).
const (
	execProtocolV5 = "v5.channel.k8s.io"
	execProtocolV4 = "v4.channel.k8s.io"
)

type execRequest struct {
	command                    []string
	stdin, stdout, stderr, tty bool
}

func parseExecRequest(r *http.Request) (execRequest, error) {
	q := r.URL.Query()
	req := execRequest{
		command: q["command"],
		stdin:   boolParam(q.Get("stdin")),
		stdout:  boolParam(q.Get("stdout")),
		stderr:  boolParam(q.Get("stderr")),
		tty:     boolParam(q.Get("tty")),
	}
	if len(req.command) == 0 {
		return req, invalid(&api.FieldError{Path: "command", Detail: "required: the command to run"})
	}
	if !req.stdin && !req.stdout && !req.stderr {
		return req, invalid(&api.FieldError{Path: "stdout", Detail: "you must specify at least one of stdin, stdout, stderr"})
	}
	return req, nil
}

// podExec serves GET|POST .../pods/{name}/exec over a WebSocket and
// reports the command's end on the error channel as the kubelet does.
func (srv *Server) podExec(w http.ResponseWriter, r *http.Request, t podTarget) {
	req, err := parseExecRequest(r)
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	if !wsstream.IsWebSocketRequest(r) {
		writeError(w, srv.log, &badRequest{reason: "BadRequest", code: http.StatusBadRequest,
			err: errors.New("exec needs a WebSocket upgrade with subprotocol v5.channel.k8s.io (kubectl 1.29 or later)")})
		return
	}
	rt := srv.runtime()
	if rt == nil {
		writeError(w, srv.log, errNoRuntime)
		return
	}
	conn, streams, err := openChannels(w, r, req.stdin, true)
	if err != nil {
		srv.log.Debug("exec: websocket handshake", "pod", t.name, "err", err)
		return
	}
	defer conn.Close()

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	opts := podruntime.ExecOptions{Command: req.command, TTY: req.tty}
	if req.stdin {
		opts.Stdin = streams[chanStdin]
	}
	if req.stdout {
		opts.Stdout = streams[chanStdout]
	}
	if req.stderr && !req.tty {
		opts.Stderr = streams[chanStderr]
	}
	if req.tty {
		resize := make(chan podruntime.TermSize, 1)
		opts.Resize = resize
		go readResizes(ctx, streams[chanResize], resize)
	}
	code, err := rt.Exec(ctx, t.uid, t.container, opts)
	st := execStatus(req.command, code, err)
	if err != nil {
		srv.log.Info("exec failed", "pod", t.name, "container", t.container, "err", err)
	}
	b, _ := json.Marshal(st)
	if _, err := streams[chanError].Write(b); err != nil {
		srv.log.Debug("exec: write status", "err", err)
	}
}

// errNoRuntime answers a node request that needs containerd before the
// agent has reached it.
var errNoRuntime = &badRequest{reason: "ServiceUnavailable", code: http.StatusServiceUnavailable,
	err: errors.New("containerd is not connected on this node yet")}

// openChannels upgrades r to the remote command WebSocket (v5 or v4) that
// exec and attach share: stdout, stderr and the error channel written,
// stdin read when asked, resize read when the command takes one.
func openChannels(w http.ResponseWriter, r *http.Request, stdin, resize bool) (*wsstream.Conn, []io.ReadWriteCloser, error) {
	channels := []wsstream.ChannelType{wsstream.IgnoreChannel, wsstream.WriteChannel, wsstream.WriteChannel, wsstream.WriteChannel, wsstream.IgnoreChannel}
	if stdin {
		channels[chanStdin] = wsstream.ReadChannel
	}
	if resize {
		channels[chanResize] = wsstream.ReadChannel
	}
	protocols := map[string]wsstream.ChannelProtocolConfig{}
	for _, name := range []string{execProtocolV5, execProtocolV4} {
		protocols[name] = wsstream.ChannelProtocolConfig{Binary: true, Channels: channels}
	}
	conn := wsstream.NewConn(protocols)
	_, streams, err := conn.Open(w, r)
	if err != nil {
		return nil, nil, err
	}
	return conn, streams, nil
}

// execStatus is what kubectl reads on the error channel: Success, or the
// exit code as a NonZeroExitCode cause, or why the command did not run.
func execStatus(cmd []string, code int, err error) api.Status {
	st := api.Status{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Status"}}
	switch {
	case err != nil:
		st.Status, st.Reason, st.Code = "Failure", "InternalError", http.StatusInternalServerError
		st.Message = err.Error()
		if errors.Is(err, podruntime.ErrNotRunning) || errors.Is(err, podruntime.ErrNoContainer) {
			st.Reason, st.Code = "BadRequest", http.StatusBadRequest
		}
	case code != 0:
		st.Status, st.Reason = "Failure", "NonZeroExitCode"
		st.Message = fmt.Sprintf("command terminated with non-zero exit code: error executing command [%s], exit code %d", strings.Join(cmd, " "), code)
		st.Details = &api.StatusDetails{Causes: []api.StatusCause{{Type: "ExitCode", Message: strconv.Itoa(code)}}}
	default:
		st.Status = "Success"
	}
	return st
}

// readResizes decodes the terminal sizes kubectl sends as JSON objects.
func readResizes(ctx context.Context, r io.Reader, out chan<- podruntime.TermSize) {
	dec := json.NewDecoder(r)
	for {
		var sz struct{ Width, Height uint16 }
		if err := dec.Decode(&sz); err != nil {
			return
		}
		select {
		case out <- podruntime.TermSize{Width: sz.Width, Height: sz.Height}:
		case <-ctx.Done():
			return
		}
	}
}
