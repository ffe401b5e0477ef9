package apiserver

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/api"
)

// fixedSeat is a Raft seat a test holds: a consensus test cluster's state
// and log, or its own twin of the log.
type fixedSeat struct {
	store Store
	log   Log
}

func (s fixedSeat) Seat() (Store, Log) { return s.store, s.log }

// testServer is an API server on a seat (nil: a client) with no gossip,
// no runtime and the leader's read index unless reads says otherwise.
func testServer(name string, seat Seats, reads ReadIndexer) *Server {
	return New(Config{Name: name, Log: slog.New(slog.DiscardHandler)}, Deps{Seats: seat, Reads: reads})
}
func do(t *testing.T, method, url, contentType, accept, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func request(t *testing.T, method, url, contentType, body string) (int, api.Status, []byte) {
	t.Helper()
	code, b := do(t, method, url, contentType, "", body)
	var st api.Status
	_ = json.Unmarshal(b, &st)
	return code, st, b
}
