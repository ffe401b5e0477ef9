package agent

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Profiles are served behind the API's token, or openly only when asked
// for; an agent with an open API and no --debug-pprof does not serve them.
func TestPprofIsServedBehindTheTokenOrWhenAsked(t *testing.T) {
	get := func(port int, path, token string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", port, path), nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	waitUp := func(port int) {
		eventually(t, "API up", func() bool {
			req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/healthz", port), nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
	}

	open := runAgent(t, "pprof-open", func(c *Config) { c.BootstrapExpect = 1 })
	waitUp(open.APIPort)
	if code, _ := get(open.APIPort, "/debug/pprof/", ""); code != http.StatusNotFound {
		t.Errorf("open API without --debug-pprof: /debug/pprof/ HTTP %d, want 404", code)
	}

	asked := runAgent(t, "pprof-asked", func(c *Config) { c.BootstrapExpect = 1; c.DebugPprof = true })
	waitUp(asked.APIPort)
	if code, body := get(asked.APIPort, "/debug/pprof/heap?debug=1", ""); code != http.StatusOK || !strings.Contains(body, "heap profile") {
		t.Errorf("--debug-pprof: heap HTTP %d %.80q", code, body)
	}

	const token = "pprof-token"
	guarded := runAgent(t, "pprof-token", func(c *Config) { c.BootstrapExpect = 1; c.TokenFile = writeFile(t, "token", token) })
	waitUp(guarded.APIPort)
	if code, _ := get(guarded.APIPort, "/debug/pprof/goroutine?debug=1", ""); code != http.StatusUnauthorized {
		t.Errorf("token set, none sent: HTTP %d, want 401", code)
	}
	if code, body := get(guarded.APIPort, "/debug/pprof/goroutine?debug=1", token); code != http.StatusOK || !strings.Contains(body, "goroutine profile") {
		t.Errorf("token sent: HTTP %d %.80q", code, body)
	}
}
