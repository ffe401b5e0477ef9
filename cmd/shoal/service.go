package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/api/printers"
)

func isServiceResource(s string) bool {
	switch strings.ToLower(s) {
	case "svc", "service", "services":
		return true
	}
	return false
}

func servicesPath(ns string) string {
	if ns == "" {
		return "/api/v1/services"
	}
	return "/api/v1/namespaces/" + url.PathEscape(ns) + "/services"
}

func servicePath(ns, name string) string { return servicesPath(ns) + "/" + url.PathEscape(name) }

// applyService creates the Service, or replaces it when it exists. A
// manifest without a clusterIP keeps the one the fleet allocated (the
// server carries it over), so applying the same manifest again changes
// nothing.
func applyService(ctx context.Context, c *client, s *api.Service, ns string) (string, error) {
	err := c.sendJSON(ctx, "POST", servicesPath(ns), s, nil)
	if err == nil {
		return "created", nil
	}
	if !isReason(err, "AlreadyExists") {
		return "", fmt.Errorf("create service %s: %w", s.ObjectMeta.Name, err)
	}
	if err := c.sendJSON(ctx, "PUT", servicePath(ns, s.ObjectMeta.Name), s, nil); err != nil {
		return "", fmt.Errorf("update service %s: %w", s.ObjectMeta.Name, err)
	}
	return "configured", nil
}

// getServices reads Services for `get`, in kubectl's columns (the shared
// printer): NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE, and SELECTOR
// when wide.
func getServices(ctx context.Context, c *client, ns string, names []string, q url.Values, withNS, wide bool) (items []any, header []string, rows [][]string, err error) {
	var list []api.Service
	if len(names) == 1 {
		if ns == "" {
			ns = api.DefaultNamespace
		}
		var s api.Service
		if err := c.getJSON(ctx, servicePath(ns, names[0]), &s); err != nil {
			return nil, nil, nil, err
		}
		list = []api.Service{s}
	} else {
		var l api.ServiceList
		if err := c.getJSON(ctx, servicesPath(ns)+"?"+q.Encode(), &l); err != nil {
			return nil, nil, nil, err
		}
		list = l.Items
	}
	cols := printers.ServiceColumns()
	for _, col := range cols {
		if col.Priority == 0 || wide {
			header = append(header, strings.ToUpper(col.Name))
		}
	}
	if withNS {
		header = append([]string{"NAMESPACE"}, header...)
	}
	now := time.Now()
	for i := range list {
		s := &list[i]
		s.APIVersion, s.Kind = api.V1, api.KindService
		items = append(items, s)
		var row []string
		if withNS {
			row = append(row, s.ObjectMeta.Namespace)
		}
		for j, cell := range printers.Service(s, now) {
			if cols[j].Priority == 0 || wide {
				row = append(row, fmt.Sprint(cell))
			}
		}
		rows = append(rows, row)
	}
	return items, header, rows, nil
}

func deleteServices(ctx context.Context, g *globalFlags, w io.Writer, names []string) error {
	ns := g.namespace
	if ns == "" {
		ns = api.DefaultNamespace
	}
	for _, n := range names {
		if err := deleteServiceNamed(ctx, g, w, ns, n); err != nil {
			return err
		}
	}
	return nil
}

// deleteServiceNamed deletes a Service; its Endpoints and EndpointSlices
// go with it.
func deleteServiceNamed(ctx context.Context, g *globalFlags, w io.Writer, ns, name string) error {
	if err := g.client().do(ctx, "DELETE", servicePath(ns, name), nil, "", nil); err != nil {
		return fmt.Errorf("delete service %s: %w", name, err)
	}
	fmt.Fprintf(w, "service %q deleted\n", name)
	return nil
}
