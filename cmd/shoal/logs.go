package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shoal-dev/shoal/api"
)

func newLogsCmd(g *globalFlags) *cobra.Command {
	var (
		container        string
		follow, previous bool
		tail             int64
	)
	cmd := &cobra.Command{
		Use:   "logs POD",
		Short: "Print the logs of a container of a pod",
		Example: `  shoal logs web
  shoal logs web -c sidecar -f
  shoal logs web --previous --tail 20`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := url.Values{}
			if container != "" {
				q.Set("container", container)
			}
			if follow {
				q.Set("follow", "true")
			}
			if previous {
				q.Set("previous", "true")
			}
			if tail >= 0 {
				q.Set("tailLines", strconv.FormatInt(tail, 10))
			}
			path := podPath(namespaceOr(g.namespace), args[0]) + "/log?" + q.Encode()
			return g.client().stream(cmd.Context(), path, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVarP(&container, "container", "c", "", "container name (needed when the pod has more than one)")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing what the container writes until it exits")
	cmd.Flags().BoolVarP(&previous, "previous", "p", false, "print the log of the container's previous, terminated instance")
	cmd.Flags().Int64Var(&tail, "tail", -1, "lines from the end to print (-1: all)")
	return cmd
}

func namespaceOr(ns string) string {
	if ns == "" {
		return "default"
	}
	return ns
}

// stream copies the body of a GET to w as it arrives, with no overall
// timeout: a followed log lasts as long as its container.
func (c *client) stream(ctx context.Context, path string, w io.Writer) error {
	if c.err != nil {
		return c.err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	hc := *c.http
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("reach shoal agent at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return statusFromResponse(resp)
	}
	if _, err := io.Copy(w, resp.Body); err != nil && ctx.Err() == nil {
		return fmt.Errorf("read log: %w", err)
	}
	return nil
}

// statusFromResponse turns a failed answer into the agent's Status error.
func statusFromResponse(resp *http.Response) error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var st api.Status
	if json.Unmarshal(data, &st) == nil && st.Kind == "Status" {
		return &apiError{Status: st}
	}
	return fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(data)))
}
