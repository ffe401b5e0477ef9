package apiserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/net/websocket"
	"k8s.io/streaming/pkg/httpstream"
	"k8s.io/streaming/pkg/httpstream/spdy"
	"k8s.io/streaming/pkg/httpstream/wsstream"
)

// Port forwarding speaks Kubernetes' SPDY protocol: the client opens a pair
// of streams per connection (an error stream and a data stream, tied by a
// requestID header, with the pod port in a port header) and the node copies
// the data stream to a TCP connection to the pod's IP. kubectl 1.32 first
// tries the same SPDY carried in WebSocket binary messages and falls back
// to plain SPDY; both are served.
const (
	portForwardProtocol = "portforward.k8s.io"
	tunnelProtocol      = "SPDY/3.1+portforward.k8s.io"
	// portForwardIdle closes a forwarding session nobody used for this long.
	portForwardIdle = 4 * time.Hour
)

func (srv *Server) podPortForward(w http.ResponseWriter, r *http.Request, t podTarget) {
	if t.ip == "" {
		writeError(w, srv.log, &badRequest{reason: "BadRequest", code: http.StatusBadRequest, err: fmt.Errorf("pod %s has no IP yet", t.name)})
		return
	}
	if wsstream.IsWebSocketRequest(r) {
		srv.portForwardTunnel(w, r, t)
		return
	}
	if _, err := httpstream.Handshake(r, w, []string{portForwardProtocol}); err != nil {
		return // Handshake answered the client
	}
	streams := make(chan httpstream.Stream, 8)
	conn := spdy.NewResponseUpgrader().UpgradeResponse(w, r, streamsTo(streams))
	if conn == nil {
		return // the upgrader answered the client
	}
	srv.servePortForward(r.Context(), conn, streams, t)
}

// portForwardTunnel serves the SPDY session inside a WebSocket.
func (srv *Server) portForwardTunnel(w http.ResponseWriter, r *http.Request, t podTarget) {
	tunnel := websocket.Server{
		Handshake: func(cfg *websocket.Config, req *http.Request) error {
			for _, p := range cfg.Protocol {
				if p == tunnelProtocol {
					cfg.Protocol = []string{tunnelProtocol}
					return nil
				}
			}
			return fmt.Errorf("port forwarding over WebSocket needs subprotocol %s, got %v", tunnelProtocol, cfg.Protocol)
		},
		Handler: func(ws *websocket.Conn) {
			ws.PayloadType = websocket.BinaryFrame
			streams := make(chan httpstream.Stream, 8)
			conn, err := spdy.NewServerConnection(ws, streamsTo(streams))
			if err != nil {
				srv.log.Debug("port-forward: SPDY over WebSocket", "err", err)
				return
			}
			srv.servePortForward(r.Context(), conn, streams, t)
		},
	}
	tunnel.ServeHTTP(w, r)
}

func streamsTo(ch chan<- httpstream.Stream) httpstream.NewStreamHandler {
	return func(s httpstream.Stream, replySent <-chan struct{}) error {
		ch <- s
		return nil
	}
}

// streamPair is the error and data stream of one forwarded connection.
type streamPair struct {
	data, errs httpstream.Stream
}

func (srv *Server) servePortForward(ctx context.Context, conn httpstream.Connection, streams <-chan httpstream.Stream, t podTarget) {
	defer conn.Close()
	conn.SetIdleTimeout(portForwardIdle)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	pairs := map[string]*streamPair{}
	for {
		select {
		case <-conn.CloseChan():
			return
		case <-ctx.Done():
			return
		case s := <-streams:
			id := s.Headers().Get("requestID")
			p := pairs[id]
			if p == nil {
				p = &streamPair{}
				pairs[id] = p
			}
			switch s.Headers().Get("streamType") {
			case "error":
				p.errs = s
			case "data":
				p.data = s
			default:
				s.Reset()
				continue
			}
			if p.errs == nil || p.data == nil {
				continue
			}
			delete(pairs, id)
			wg.Add(1)
			go func() {
				defer wg.Done()
				srv.forwardPair(ctx, conn, p, t)
			}()
		}
	}
}

// forwardPair connects one client connection to the pod's port; a failure
// goes back as text on the error stream, which kubectl prints.
func (srv *Server) forwardPair(ctx context.Context, conn httpstream.Connection, p *streamPair, t podTarget) {
	defer conn.RemoveStreams(p.data, p.errs)
	defer p.errs.Close()
	defer p.data.Close()
	portStr := p.data.Headers().Get("port")
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil || port == 0 {
		fmt.Fprintf(p.errs, "invalid port %q", portStr)
		return
	}
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	pod, err := d.DialContext(dctx, "tcp4", net.JoinHostPort(t.ip, portStr))
	cancel()
	if err != nil {
		fmt.Fprintf(p.errs, "error forwarding port %d to pod %s: %v", port, t.name, err)
		return
	}
	defer pod.Close()
	go func() {
		if _, err := io.Copy(pod, p.data); err != nil && !errors.Is(err, net.ErrClosed) {
			srv.log.Debug("port-forward: client to pod", "err", err)
		}
		// The client finished sending: let the pod see the end of input.
		if tc, ok := pod.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	}()
	// The connection is over when the pod is done answering.
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := io.Copy(p.data, pod); err != nil && !errors.Is(err, net.ErrClosed) {
			srv.log.Debug("port-forward: pod to client", "err", err)
		}
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
