package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// client is the CLI's thin HTTP client of any agent's Kubernetes-shaped API.
type client struct {
	base  string
	http  *http.Client
	token string
	err   error // from the CLI's config (cmd/shoal/cliconfig.go), returned by every call
}

func newClient(addr string) *client {
	cc, err := loadCLIConfig()
	if addr == "" {
		addr = cc.Server
	}
	if addr == "" {
		addr = "http://127.0.0.1:7080"
	}
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	hc, herr := cc.httpClient(5 * time.Minute)
	return &client{base: strings.TrimRight(addr, "/"), http: hc, token: cc.Token, err: errors.Join(err, herr)}
}

// apiError is a Kubernetes Status returned by the agent.
type apiError struct {
	Status api.Status
}

func (e *apiError) Error() string {
	if e.Status.Message != "" {
		return e.Status.Message
	}
	return fmt.Sprintf("%s (HTTP %d)", e.Status.Reason, e.Status.Code)
}

func isReason(err error, reason string) bool {
	var ae *apiError
	return errors.As(err, &ae) && string(ae.Status.Reason) == reason
}

// do sends a request and decodes a JSON answer into out (when not nil).
func (c *client) do(ctx context.Context, method, path string, body io.Reader, contentType string, out any) error {
	if c.err != nil {
		return c.err
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("reach shoal agent at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read answer of %s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var st api.Status
		if json.Unmarshal(data, &st) == nil && st.Kind == "Status" {
			return &apiError{Status: st}
		}
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, strings.TrimSpace(string(data)))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode answer of %s %s: %w", method, path, err)
	}
	return nil
}

func (c *client) getJSON(ctx context.Context, path string, out any) error {
	return c.do(ctx, http.MethodGet, path, nil, "", out)
}

func (c *client) sendJSON(ctx context.Context, method, path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return c.do(ctx, method, path, bytes.NewReader(b), "application/json", out)
}

func podsPath(ns string) string {
	if ns == "" {
		return "/api/v1/pods"
	}
	return "/api/v1/namespaces/" + url.PathEscape(ns) + "/pods"
}

func podPath(ns, name string) string {
	return podsPath(ns) + "/" + url.PathEscape(name)
}
