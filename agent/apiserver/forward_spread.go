package apiserver

import "hash/fnv"

// homeServerAPI is the API address of the live server this client
// forwards its reads to (and its writes while no leader is known), ""
// when no server is alive. Each client picks by rendezvous hashing of its
// own name with each server's: a client keeps going to the same server
// while that one lives (its reads stay monotonic, its watches on one
// state), the clients of a fleet spread evenly over the servers rather
// than all asking the first by name (at 1,000 nodes that one seat served
// every client's assignments query and status report), and when a server
// dies only its own clients move, each to its next choice.
func (srv *Server) homeServerAPI() string {
	best, bestAPI := uint64(0), ""
	for _, m := range srv.members() {
		if !m.Alive || !m.Server || m.API == "" {
			continue
		}
		if w := rendezvousWeight(srv.cfg.Name, m.Name); bestAPI == "" || w > best {
			best, bestAPI = w, m.API
		}
	}
	return bestAPI
}

// rendezvousWeight is client's score for server: FNV-1a of both names,
// finished with a 64-bit mixer so that names differing in their last
// characters (h0001, h0002) still score far apart.
func rendezvousWeight(client, server string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(client))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(server))
	x := h.Sum64()
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}
