package svcproxy

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
)

// Chain and set names carry a short hash of what they stand for (so they are
// unique and stable) followed by a readable tail for whoever runs
// `nft list table`. nftables names may be 256 bytes long; Kubernetes names
// keep the tail well inside that.

func hashed(prefix, id string) string {
	sum := sha256.Sum256([]byte(id))
	h := base32.StdEncoding.EncodeToString(sum[:])[:8]
	return fmt.Sprintf("%s-%s-%s", prefix, h, id)
}

// portID names one service port: ns/name/tcp/port.
func portID(s *Service, p Port) string {
	return fmt.Sprintf("%s/%s/%d", s.key(), p.Protocol.nft(), p.Port)
}

func serviceChain(s *Service, p Port) string { return hashed("svc", portID(s, p)) }

func endpointChain(s *Service, p Port, ip string, port uint16) string {
	return hashed("ep", fmt.Sprintf("%s__%s/%d", portID(s, p), ip, port))
}

// affinitySet is keyed by the timeout too, so a changed timeout is a new set
// (a set's timeout cannot be changed in place).
func affinitySet(s *Service, p Port, ip string, port uint16, timeoutSec int64) string {
	return hashed("aff", fmt.Sprintf("%s__%s/%d/%ds", portID(s, p), ip, port, timeoutSec))
}
