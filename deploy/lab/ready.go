package lab

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// fleetStatus is what the agents' API says about the fleet.
type fleetStatus struct {
	Leader string
	Ready  int
	Total  int
}

func (s fleetStatus) String() string {
	leader := s.Leader
	if leader == "" {
		leader = "none"
	}
	return fmt.Sprintf("leader %s, %d/%d nodes Ready", leader, s.Ready, s.Total)
}

type nodeList struct {
	Items []struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Status struct {
			Conditions []struct {
				Type   string `json:"type"`
				Status string `json:"status"`
			} `json:"conditions"`
		} `json:"status"`
	} `json:"items"`
}

type clusterInfo struct {
	Leader string `json:"leader"`
}

// waitReady polls the agents until one reports a leader and all nodes
// Ready, writing a progress line whenever the picture changes. It fails
// early when an agent process exits.
func waitReady(ctx context.Context, l *Lab, progress io.Writer, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client, err := l.apiClient(2 * time.Second)
	if err != nil {
		return err
	}
	want := len(l.Nodes)
	lastLine := ""
	var lastErr error
	for {
		for _, n := range l.Nodes {
			if !alive(n.PID) {
				what := "agent"
				if l.Machines {
					what = "machine"
				}
				return fmt.Errorf("%s %s (pid %d) exited (log: %s%s)", what, n.Name, n.PID, n.Log, tail(n.Log, 10))
			}
		}
		st, err := fleetStatusFrom(ctx, client, l)
		lastErr = err
		line := "waiting for agents: " + st.String()
		if err != nil {
			line = "waiting for agents: " + err.Error()
		}
		if line != lastLine {
			fmt.Fprintf(progress, "lab %s: %s\n", l.Name, line)
			lastLine = line
		}
		if err == nil && st.Leader != "" && st.Ready >= want {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("lab %s not ready after %s: %s (last error: %v)", l.Name, timeout, line, lastErr)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// fleetStatusFrom asks the agents in turn and returns the first complete
// answer, else the most advanced one; an error only if no agent answered.
func fleetStatusFrom(ctx context.Context, client *http.Client, l *Lab) (fleetStatus, error) {
	var firstErr error
	answered := false
	best := fleetStatus{Total: len(l.Nodes)}
	for _, n := range l.Nodes {
		var ci clusterInfo
		var nl nodeList
		err := getJSON(ctx, client, l.token(), n.APIURL()+"/shoal/v1/cluster", &ci)
		if err == nil {
			err = getJSON(ctx, client, l.token(), n.APIURL()+"/api/v1/nodes", &nl)
		}
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		answered = true
		st := fleetStatus{Leader: ci.Leader, Ready: countReady(nl), Total: len(l.Nodes)}
		if st.Leader != "" && st.Ready >= st.Total {
			return st, nil
		}
		if st.Ready > best.Ready || (best.Leader == "" && st.Leader != "") {
			best = st
		}
	}
	if !answered {
		return best, firstErr
	}
	return best, nil
}

func countReady(nl nodeList) int {
	n := 0
	for _, item := range nl.Items {
		for _, c := range item.Status.Conditions {
			if c.Type == "Ready" && c.Status == "True" {
				n++
				break
			}
		}
	}
	return n
}

// apiClient talks to the lab's agents, trusting the lab's CA when it has
// one.
func (l *Lab) apiClient(timeout time.Duration) (*http.Client, error) {
	client := &http.Client{Timeout: timeout}
	if l.CAFile == "" {
		return client, nil
	}
	pem, err := os.ReadFile(l.CAFile)
	if err != nil {
		return nil, fmt.Errorf("lab %s CA: %w", l.Name, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("lab %s CA %s: no certificate in it", l.Name, l.CAFile)
	}
	client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	return client, nil
}

func getJSON(ctx context.Context, client *http.Client, token, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(v); err != nil {
		return fmt.Errorf("GET %s: decode: %w", url, err)
	}
	return nil
}
