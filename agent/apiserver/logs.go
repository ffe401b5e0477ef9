package apiserver

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/podruntime"
)

// The streaming subresources (log, exec, portforward) run on the agent of
// the node the pod is bound to. A server resolves the pod from its state
// and hands the request over with what the node needs in these headers, so
// that a node without a Raft seat does not look the pod up again.
const (
	podNodeHeader = "X-Shoal-Pod-Node"
	podUIDHeader  = "X-Shoal-Pod-Uid"
	podIPHeader   = "X-Shoal-Pod-Ip"
)

// podTarget is the pod a streaming request is about, as the node needs it.
type podTarget struct {
	namespace, name string
	uid, ip         string
	container       string // resolved: the one named, or the pod's only one
}

// onPodNode serves a pod's streaming subresource on the node that runs the
// pod: clients pass the request to a server, servers resolve the pod and
// pass it to its node, and the node serves it.
func (srv *Server) onPodNode(h func(http.ResponseWriter, *http.Request, podTarget)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t := podTarget{namespace: r.PathValue("ns"), name: r.PathValue("name"), container: r.URL.Query().Get("container")}
		if r.Header.Get(podNodeHeader) == srv.cfg.Name && r.Header.Get(podUIDHeader) != "" {
			t.uid, t.ip = r.Header.Get(podUIDHeader), r.Header.Get(podIPHeader)
			h(w, r, t)
			return
		}
		if !srv.isServer() {
			srv.forwardTo(w, r, srv.anyServerAPI())
			return
		}
		p, err := srv.fsm().Pod(t.namespace, t.name)
		if err != nil {
			writeError(w, srv.log, err)
			return
		}
		node := p.Spec.NodeName
		if node == "" {
			writeError(w, srv.log, &badRequest{reason: "BadRequest", code: http.StatusBadRequest, err: fmt.Errorf("pod %s does not have a host assigned", t.name)})
			return
		}
		if t.container, err = pickContainer(p, t.container, r.URL.Path); err != nil {
			writeError(w, srv.log, err)
			return
		}
		t.uid, t.ip = string(p.ObjectMeta.UID), p.Status.PodIP
		if node == srv.cfg.Name {
			h(w, r, t)
			return
		}
		target := srv.memberAPI(node)
		if target == "" {
			writeJSON(w, http.StatusServiceUnavailable, api.Status{
				TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: "Failure",
				Reason: "ServiceUnavailable", Code: http.StatusServiceUnavailable,
				Message: fmt.Sprintf("node %s of pod %s cannot be reached", node, t.name),
			})
			return
		}
		r.Header.Set(podNodeHeader, node)
		r.Header.Set(podUIDHeader, t.uid)
		r.Header.Set(podIPHeader, t.ip)
		q := r.URL.Query()
		if t.container != "" {
			q.Set("container", t.container)
			r.URL.RawQuery = q.Encode()
		}
		srv.forwardTo(w, r, target)
	}
}

// pickContainer applies kubectl's rule: the named container, or the only
// one. Port forwarding is about the pod, not a container.
func pickContainer(p *api.Pod, name, path string) (string, error) {
	if strings.HasSuffix(path, "/portforward") {
		return "", nil
	}
	var names []string
	for _, c := range p.Spec.Containers {
		if c.Name == name {
			return name, nil
		}
		names = append(names, c.Name)
	}
	bad := func(format string, args ...any) error {
		return &badRequest{reason: "BadRequest", code: http.StatusBadRequest, err: fmt.Errorf(format, args...)}
	}
	if name != "" {
		return "", bad("container %s is not valid for pod %s", name, p.ObjectMeta.Name)
	}
	if len(names) == 1 {
		return names[0], nil
	}
	return "", bad("a container name must be specified for pod %s, choose one of: [%s]", p.ObjectMeta.Name, strings.Join(names, " "))
}

// podLog serves GET .../pods/{name}/log the way the kubelet does: plain
// text, streamed with ?follow=true, with the options of log_options.go.
func (srv *Server) podLog(w http.ResponseWriter, r *http.Request, t podTarget) {
	q := r.URL.Query()
	opts, err := logOptions(q, time.Now()) // log_options.go
	if err != nil {
		writeError(w, srv.log, err)
		return
	}
	var out io.Writer = &lazyWriter{w: w}
	if s := q.Get("limitBytes"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			writeError(w, srv.log, invalid(&api.FieldError{Path: "limitBytes", Value: s, Detail: "must be a positive integer"}))
			return
		}
		out = &limitedWriter{w: out, left: n}
	}
	rt := srv.runtime()
	if rt == nil {
		writeError(w, srv.log, errNoRuntime)
		return
	}
	err = rt.Logs(r.Context(), t.uid, t.container, opts, out)
	if errors.Is(err, errLimitReached) {
		return
	}
	if lw := lazyOf(out); err == nil || lw.started {
		if err != nil {
			srv.log.Debug("log stream ended", "pod", t.name, "err", err)
		}
		return
	}
	if errors.Is(err, podruntime.ErrNoLog) {
		msg := fmt.Sprintf("container %q in pod %q is waiting to start", t.container, t.name)
		if opts.Previous {
			msg = fmt.Sprintf("previous terminated container %q in pod %q not found", t.container, t.name)
		}
		writeError(w, srv.log, &badRequest{reason: "BadRequest", code: http.StatusBadRequest, err: errors.New(msg)})
		return
	}
	if errors.Is(err, podruntime.ErrNoTimes) {
		writeError(w, srv.log, &badRequest{reason: "BadRequest", code: http.StatusBadRequest,
			err: fmt.Errorf("container %q in pod %q: %w", t.container, t.name, podruntime.ErrNoTimes)})
		return
	}
	writeError(w, srv.log, err)
}

// lazyWriter sends the 200 and the text header on the first write, so an
// error found before any output can still be a Status; it flushes every
// write so a follower sees lines as they come.
type lazyWriter struct {
	w       http.ResponseWriter
	started bool
}

func (l *lazyWriter) Write(p []byte) (int, error) {
	if !l.started {
		l.started = true
		l.w.Header().Set("Content-Type", "text/plain")
		l.w.WriteHeader(http.StatusOK)
	}
	return l.w.Write(p)
}

func (l *lazyWriter) Flush() {
	if !l.started {
		l.started = true
		l.w.Header().Set("Content-Type", "text/plain")
		l.w.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(l.w).Flush()
}

// errLimitReached ends a log stream at limitBytes.
var errLimitReached = errors.New("limitBytes reached")

// limitedWriter passes on at most left bytes, then ends the stream, as
// the kubelet does for ?limitBytes (kubectl logs --limit-bytes).
type limitedWriter struct {
	w    io.Writer
	left int64
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.left {
		n, err := l.w.Write(p[:l.left])
		l.left -= int64(n)
		if err != nil {
			return n, err
		}
		return n, errLimitReached
	}
	n, err := l.w.Write(p)
	l.left -= int64(n)
	if err == nil && l.left == 0 {
		err = errLimitReached
	}
	return n, err
}

func (l *limitedWriter) Flush() {
	if f, ok := l.w.(interface{ Flush() }); ok {
		f.Flush()
	}
}

// lazyOf finds the lazyWriter under w.
func lazyOf(w io.Writer) *lazyWriter {
	if l, ok := w.(*limitedWriter); ok {
		return lazyOf(l.w)
	}
	return w.(*lazyWriter)
}

func boolParam(s string) bool {
	b, _ := strconv.ParseBool(s)
	return b
}
