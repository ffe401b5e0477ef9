package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/spf13/cobra"
	"k8s.io/streaming/pkg/httpstream"
	"k8s.io/streaming/pkg/httpstream/spdy"
)

func newPortForwardCmd(g *globalFlags) *cobra.Command {
	var address string
	cmd := &cobra.Command{
		Use:   "port-forward POD LOCAL:REMOTE",
		Short: "Forward a local port to a port of a pod",
		Long: `Forward connections to LOCAL on this machine to port REMOTE of the pod,
through the agent of the pod's node. Binds 127.0.0.1 unless --address says otherwise.`,
		Example: "  shoal port-forward web 8080:80",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			local, remote, err := parsePortPair(args[1])
			if err != nil {
				return err
			}
			name := strings.TrimPrefix(args[0], "pod/")
			path := podPath(namespaceOr(g.namespace), name) + "/portforward"
			return g.client().portForward(cmd.Context(), path, net.JoinHostPort(address, local), remote, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&address, "address", "127.0.0.1", "local address to listen on")
	return cmd
}

func parsePortPair(s string) (local, remote string, err error) {
	local, remote, ok := strings.Cut(s, ":")
	if !ok {
		local, remote = s, s
	}
	for _, p := range []string{local, remote} {
		if n, err := strconv.ParseUint(p, 10, 16); err != nil || n == 0 {
			return "", "", fmt.Errorf("port pair %q: ports must be numbers 1-65535 as LOCAL:REMOTE", s)
		}
	}
	return local, remote, nil
}

// portForward upgrades one request to SPDY and carries every connection to
// listenAddr over its own pair of streams, until ctx ends or the agent
// closes the session.
func (c *client) portForward(ctx context.Context, path, listenAddr, remote string, out io.Writer) error {
	if c.err != nil {
		return c.err
	}
	cfg := spdy.RoundTripperConfig{}
	if tr, ok := c.http.Transport.(*http.Transport); ok && tr.TLSClientConfig != nil {
		cfg.TLS = tr.TLSClientConfig.Clone()
	}
	rt, err := spdy.NewRoundTripperWithConfig(cfg)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set(httpstream.HeaderProtocolVersion, "portforward.k8s.io")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return fmt.Errorf("reach shoal agent at %s: %w", c.base, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		defer resp.Body.Close()
		return statusFromResponse(resp)
	}
	conn, err := rt.NewConnection(resp)
	if err != nil {
		return fmt.Errorf("port-forward session: %w", err)
	}
	defer conn.Close()

	ln, err := net.Listen("tcp", listenAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", listenAddr, err)
	}
	defer ln.Close()
	fmt.Fprintf(out, "Forwarding from %s -> %s\n", ln.Addr(), remote)
	go func() {
		select {
		case <-ctx.Done():
		case <-conn.CloseChan():
		}
		ln.Close()
	}()
	var nextID atomic.Int64
	for {
		local, err := ln.Accept()
		if err != nil {
			select {
			case <-conn.CloseChan():
				return errors.New("lost connection to the pod's agent")
			default:
			}
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("accept: %w", err)
		}
		go func() {
			defer local.Close()
			if err := forwardConn(conn, local, remote, strconv.FormatInt(nextID.Add(1), 10)); err != nil {
				fmt.Fprintf(out, "forward connection to port %s: %v\n", remote, err)
			}
		}()
	}
}

// forwardConn carries one local connection over an error and a data stream.
func forwardConn(conn httpstream.Connection, local net.Conn, port, id string) error {
	h := http.Header{}
	h.Set("streamType", "error")
	h.Set("port", port)
	h.Set("requestID", id)
	errStream, err := conn.CreateStream(h)
	if err != nil {
		return fmt.Errorf("create error stream: %w", err)
	}
	errStream.Close() // we only read from it
	remoteErr := make(chan error, 1)
	go func() {
		msg, err := io.ReadAll(errStream)
		switch {
		case err != nil:
			remoteErr <- err
		case len(msg) > 0:
			remoteErr <- errors.New(string(msg))
		default:
			remoteErr <- nil
		}
	}()
	h.Set("streamType", "data")
	data, err := conn.CreateStream(h)
	if err != nil {
		return fmt.Errorf("create data stream: %w", err)
	}
	defer conn.RemoveStreams(errStream, data)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(local, data)
	}()
	go func() {
		_, _ = io.Copy(data, local)
		data.Close() // half-close: the pod sees the end of our input
	}()
	<-done
	return <-remoteErr
}
