package agent

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
)

// Many of this agent's calls to other agents run at once (forwarding,
// status reports, events, seat reviews), each through internalTransport:
// the fleet's client tls.Config must come out of them unchanged and
// untouched by net/http (which adds ALPN names to a transport's config).
// Run with -race.
func TestInternalCallsShareNoMutableTLSConfig(t *testing.T) {
	caFile, certFile, keyFile := testCA(t)
	a := &Agent{cfg: Config{TLSCAFile: caFile, TLSCertFile: certFile, TLSKeyFile: keyFile}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := a.setupSecurity(); err != nil {
		t.Fatal(err)
	}
	protos := slices.Clone(a.sec.clientTLS.NextProtos)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	srv.TLS = a.sec.serverTLS.Clone()
	srv.StartTLS()
	defer srv.Close()

	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// http://: the transport upgrades to https for a TLS fleet.
			resp, err := a.internalClient(0).Get("http://" + srv.Listener.Addr().String() + "/")
			if err != nil {
				errs <- err
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				errs <- fmt.Errorf("HTTP %d", resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if !slices.Equal(a.sec.clientTLS.NextProtos, protos) {
		t.Fatalf("the fleet's client TLS config was changed by a call: NextProtos %v, was %v", a.sec.clientTLS.NextProtos, protos)
	}
}
