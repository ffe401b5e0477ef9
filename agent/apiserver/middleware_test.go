package apiserver

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestMiddlewareKeepsStreamingAndHijackingWorking(t *testing.T) {
	a := testServer("", nil, nil)
	h := a.withMiddleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(http.Flusher); !ok {
			t.Error("the wrapped writer lost http.Flusher: watches would not stream")
		}
		hj, ok := w.(http.Hijacker)
		if !ok {
			t.Error("the wrapped writer lost http.Hijacker: exec upgrades would fail")
			return
		}
		conn, buf, err := hj.Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		buf.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n")
		buf.Flush()
		conn.Close()
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/v1/namespaces/default/pods/x/exec")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
}
