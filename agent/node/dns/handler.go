package dns

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// handler answers one query: from the zone, from an upstream, or REFUSED.
type handler struct {
	zone      zone
	upstreams []string
	timeout   time.Duration
	log       *slog.Logger
	// ctx ends with the server, cancelling upstream exchanges in flight.
	ctx context.Context
}

func (h *handler) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	udp := w.LocalAddr().Network() == "udp"
	resp := h.respond(req, udp)
	if udp {
		resp.Truncate(udpSize(req))
	}
	if err := w.WriteMsg(resp); err != nil {
		h.log.Debug("dns reply not sent", "client", w.RemoteAddr(), "err", err)
	}
}

func (h *handler) respond(req *dns.Msg, udp bool) *dns.Msg {
	m := new(dns.Msg)
	if req.Opcode != dns.OpcodeQuery || len(req.Question) != 1 {
		return m.SetRcode(req, dns.RcodeNotImplemented)
	}
	q := req.Question[0]
	if !h.zone.contains(strings.ToLower(q.Name)) {
		return h.forward(req, udp)
	}
	m.SetReply(req)
	if q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY {
		return m.SetRcode(req, dns.RcodeNotImplemented)
	}
	h.zone.answer(q, m)
	if opt := req.IsEdns0(); opt != nil {
		m.SetEdns0(opt.UDPSize(), false)
	}
	return m
}

// forward asks the upstreams in order, over the protocol the client used.
func (h *handler) forward(req *dns.Msg, udp bool) *dns.Msg {
	if len(h.upstreams) == 0 {
		return new(dns.Msg).SetRcode(req, dns.RcodeRefused)
	}
	c := &dns.Client{Net: "tcp", Timeout: h.timeout}
	if udp {
		c.Net = "udp"
		c.UDPSize = uint16(udpSize(req))
	}
	var errs []error
	for _, up := range h.upstreams {
		ctx, cancel := context.WithTimeout(h.ctx, h.timeout)
		resp, _, err := c.ExchangeContext(ctx, req, up)
		cancel()
		if err == nil {
			resp.Id = req.Id
			return resp
		}
		errs = append(errs, err)
	}
	h.log.Warn("dns upstreams failed", "name", req.Question[0].Name, "upstreams", h.upstreams, "err", errors.Join(errs...))
	return new(dns.Msg).SetRcode(req, dns.RcodeServerFailure)
}

// udpSize is the largest UDP reply the client accepts.
func udpSize(req *dns.Msg) int {
	if opt := req.IsEdns0(); opt != nil && int(opt.UDPSize()) > dns.MinMsgSize {
		return int(opt.UDPSize())
	}
	return dns.MinMsgSize
}
