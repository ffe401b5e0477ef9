package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/shoal-dev/shoal/api"
)

// watchSpec is what `shoal get -w` watches: a list path of the API, and
// how one object of it prints.
type watchSpec struct {
	path   string // collection path, without query
	kind   string // for -o name
	name   string // only this object, when the user named one
	header []string
	row    func(raw json.RawMessage) ([]string, error)
}

// watchEvent is one line of a ?watch=1 stream.
type watchEvent struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
}

// watch prints the objects of spec as kubectl get -w does: every object
// once (the stream starts with them as ADDED), then a line per change, until
// ctx ends or the agent closes the stream.
func (c *client) watch(ctx context.Context, w io.Writer, spec watchSpec, q url.Values, output string) error {
	if c.err != nil {
		return c.err
	}
	q = cloneValues(q)
	q.Set("watch", "1")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+spec.path+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	hc := *c.http
	hc.Timeout = 0 // a watch lasts as long as the user wants it
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("reach shoal agent at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		var st api.Status
		if json.Unmarshal(data, &st) == nil && st.Kind == "Status" {
			return &apiError{Status: st}
		}
		return fmt.Errorf("watch %s: HTTP %d: %s", spec.path, resp.StatusCode, strings.TrimSpace(string(data)))
	}
	p := &rowPrinter{w: w}
	if output == "" || output == "wide" {
		p.add(spec.header)
	}
	dec := json.NewDecoder(resp.Body)
	for started := false; ; started = true {
		// Rows that came in one chunk (the header and the first list,
		// above all) are aligned together.
		if started && !moreBuffered(dec) {
			p.flush()
		}
		var ev watchEvent
		if err := dec.Decode(&ev); err != nil {
			p.flush()
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("watch %s: %w", spec.path, err)
		}
		if ev.Type == "ERROR" {
			var st api.Status
			if json.Unmarshal(ev.Object, &st) == nil && st.Message != "" {
				return &apiError{Status: st}
			}
			return fmt.Errorf("watch %s: %s", spec.path, ev.Object)
		}
		var meta struct {
			Metadata api.ObjectMeta `json:"metadata"`
		}
		if err := json.Unmarshal(ev.Object, &meta); err != nil {
			return fmt.Errorf("watch %s: decode: %w", spec.path, err)
		}
		if spec.name != "" && meta.Metadata.Name != spec.name {
			continue
		}
		switch output {
		case "json":
			var v any
			if err := json.Unmarshal(ev.Object, &v); err != nil {
				return err
			}
			b, _ := json.MarshalIndent(v, "", "    ")
			fmt.Fprintln(w, string(b))
		case "yaml":
			b, err := yaml.JSONToYAML(ev.Object)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "---\n%s", b)
		case "name":
			fmt.Fprintf(w, "%s/%s\n", spec.kind, meta.Metadata.Name)
		default:
			row, err := spec.row(ev.Object)
			if err != nil {
				return fmt.Errorf("watch %s: %w", spec.path, err)
			}
			p.add(row)
		}
	}
}

// moreBuffered tells whether the decoder holds more than whitespace.
func moreBuffered(dec *json.Decoder) bool {
	b, _ := io.ReadAll(dec.Buffered())
	return strings.TrimSpace(string(b)) != ""
}

// rowPrinter aligns rows that arrive a few at a time: each column is as
// wide as its widest cell so far, as kubectl get -w keeps its columns.
type rowPrinter struct {
	w       io.Writer
	widths  []int
	pending [][]string
}

func (p *rowPrinter) add(cells []string) {
	for len(p.widths) < len(cells) {
		p.widths = append(p.widths, 0)
	}
	for i, c := range cells {
		p.widths[i] = max(p.widths[i], len(c))
	}
	p.pending = append(p.pending, cells)
}

func (p *rowPrinter) flush() {
	for _, cells := range p.pending {
		var b strings.Builder
		for i, c := range cells {
			b.WriteString(c)
			if i < len(cells)-1 {
				b.WriteString(strings.Repeat(" ", p.widths[i]-len(c)+3))
			}
		}
		fmt.Fprintln(p.w, b.String())
	}
	p.pending = p.pending[:0]
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// watchResource is `shoal get RESOURCE [NAME] -w`.
func watchResource(ctx context.Context, c *client, w io.Writer, args []string, ns string, all bool, output string, q url.Values) error {
	if ns == "" && !all {
		ns = api.DefaultNamespace
	}
	spec := watchSpec{}
	if len(args) == 2 {
		spec.name = args[1]
	}
	wide := output == "wide"
	switch {
	case isPodResource(args[0]):
		spec.path, spec.kind = podsPath(ns), "pod"
		spec.header = []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE"}
		if all {
			spec.header = append([]string{"NAMESPACE"}, spec.header...)
		}
		if wide {
			spec.header = append(spec.header, "IP", "NODE")
		}
		spec.row = func(raw json.RawMessage) ([]string, error) {
			var p api.Pod
			if err := json.Unmarshal(raw, &p); err != nil {
				return nil, err
			}
			return podRow(&p, all, wide), nil
		}
	case isNodeResource(args[0]):
		spec.path, spec.kind = "/api/v1/nodes", "node"
		spec.header = []string{"NAME", "STATUS", "ROLES", "AGE", "VERSION", "POD-BLOCK", "CPU", "MEMORY", "PODS"}
		if wide {
			spec.header = append(spec.header, "INTERNAL-IP")
		}
		spec.row = func(raw json.RawMessage) ([]string, error) {
			var n api.Node
			if err := json.Unmarshal(raw, &n); err != nil {
				return nil, err
			}
			return nodeRow(&n, wide), nil
		}
	case replicatedResource(args[0]) != nil:
		k := replicatedResource(args[0])
		spec.path, spec.kind = k.collection(ns), k.short
		_, spec.header, _, _ = replicatedTable(nil, all)
		spec.row = func(raw json.RawMessage) ([]string, error) {
			var v replicatedView
			if err := json.Unmarshal(raw, &v); err != nil {
				return nil, err
			}
			v.raw, v.kind = raw, k.kind
			_, _, rows, err := replicatedTable([]replicatedView{v}, all)
			if err != nil {
				return nil, err
			}
			return rows[0], nil
		}
	default:
		return fmt.Errorf("unknown resource type %q: shoal serves pods, nodes, rc and rs", args[0])
	}
	return c.watch(ctx, w, spec, q, output)
}
