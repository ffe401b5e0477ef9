package consensus

import (
	"crypto/tls"
	"fmt"
	"net"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// newTransport is Raft's TCP transport, over mutual TLS when cfg.TLS is
// set: Raft has no authentication of its own, so a peer that can open the
// port could otherwise vote and append entries. With TLS both ends show a
// certificate signed by the fleet's CA.
func newTransport(cfg Config, advertise net.Addr, log hclog.Logger) (*raft.NetworkTransport, error) {
	if cfg.TLS == nil {
		return raft.NewTCPTransportWithLogger(cfg.BindAddr, advertise, cfg.MaxPool, cfg.TransportTimeout, log)
	}
	ln, err := net.Listen("tcp", cfg.BindAddr)
	if err != nil {
		return nil, err
	}
	if advertise == nil {
		advertise = ln.Addr()
	}
	if a, ok := advertise.(*net.TCPAddr); !ok || a.IP == nil || a.IP.IsUnspecified() {
		ln.Close()
		return nil, fmt.Errorf("advertise address %v is not dialable", advertise)
	}
	server := cfg.TLS.Clone()
	server.ClientAuth = tls.RequireAndVerifyClientCert
	if server.ClientCAs == nil {
		server.ClientCAs = server.RootCAs
	}
	stream := &tlsStream{Listener: tls.NewListener(ln, server), advertise: advertise, client: cfg.TLS}
	return raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: stream, MaxPool: cfg.MaxPool, Timeout: cfg.TransportTimeout, Logger: log,
	}), nil
}

// tlsStream is a raft.StreamLayer whose connections are TLS both ways.
type tlsStream struct {
	net.Listener
	advertise net.Addr
	client    *tls.Config
}

func (s *tlsStream) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout}
	return tls.DialWithDialer(d, "tcp", string(addr), s.client)
}

func (s *tlsStream) Addr() net.Addr { return s.advertise }
