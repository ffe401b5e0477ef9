package apiserver

import (
	"net/http"
	"net/http/pprof"
)

// pprofRoutes serves Go's profiles (CPU, heap, allocations, goroutines) on
// the API port, so an operator can see where an agent's time goes on the
// machine it runs on. They are on when asked for with --debug-pprof, or
// when the API has a token and so only the fleet's operators reach them:
// a profile shows internals and a CPU profile costs CPU, so an open API
// does not serve them unless told to.
func (srv *Server) pprofRoutes(mux interface {
	HandleFunc(string, func(http.ResponseWriter, *http.Request))
}) {
	if !srv.cfg.DebugPprof && srv.cfg.Token == "" {
		return
	}
	mux.HandleFunc("GET /debug/pprof/", pprof.Index) // also heap, allocs, goroutine, block, mutex, threadcreate
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("POST /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}
