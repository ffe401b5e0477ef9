package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/shoal-dev/shoal/api"
)

func isSecretResource(s string) bool {
	switch strings.ToLower(s) {
	case "secret", "secrets":
		return true
	}
	return false
}

func secretsPath(ns string) string {
	if ns == "" {
		return "/api/v1/secrets"
	}
	return "/api/v1/namespaces/" + url.PathEscape(ns) + "/secrets"
}

func secretPath(ns, name string) string { return secretsPath(ns) + "/" + url.PathEscape(name) }

// applySecret creates the Secret, or replaces it when it exists.
func applySecret(ctx context.Context, c *client, s *api.Secret, ns string) (string, error) {
	err := c.sendJSON(ctx, "POST", secretsPath(ns), s, nil)
	if err == nil {
		return "created", nil
	}
	if !isReason(err, "AlreadyExists") {
		return "", fmt.Errorf("create secret %s: %w", s.Metadata.Name, err)
	}
	if err := c.sendJSON(ctx, "PUT", secretPath(ns, s.Metadata.Name), s, nil); err != nil {
		return "", fmt.Errorf("update secret %s: %w", s.Metadata.Name, err)
	}
	return "configured", nil
}

// getSecrets reads Secrets for `get`; the table shows how many keys each
// holds, never what they hold (only -o json|yaml print data).
func getSecrets(ctx context.Context, c *client, ns string, names []string, q url.Values, withNS bool) (items []any, header []string, rows [][]string, err error) {
	var list []api.Secret
	if len(names) == 1 {
		if ns == "" {
			ns = api.DefaultNamespace
		}
		var s api.Secret
		if err := c.getJSON(ctx, secretPath(ns, names[0]), &s); err != nil {
			return nil, nil, nil, err
		}
		list = []api.Secret{s}
	} else {
		var l struct {
			Items []api.Secret `json:"items"`
		}
		if err := c.getJSON(ctx, secretsPath(ns)+"?"+q.Encode(), &l); err != nil {
			return nil, nil, nil, err
		}
		list = l.Items
	}
	header = []string{"NAME", "TYPE", "DATA", "AGE"}
	if withNS {
		header = append([]string{"NAMESPACE"}, header...)
	}
	for i := range list {
		s := &list[i]
		s.APIVersion, s.Kind = "v1", "Secret"
		items = append(items, s)
		row := []string{s.Metadata.Name, s.Type, strconv.Itoa(len(s.Data)), age(s.Metadata.CreationTimestamp)}
		if withNS {
			row = append([]string{s.Metadata.Namespace}, row...)
		}
		rows = append(rows, row)
	}
	return items, header, rows, nil
}

func deleteSecrets(ctx context.Context, g *globalFlags, w io.Writer, names []string) error {
	ns := g.namespace
	if ns == "" {
		ns = api.DefaultNamespace
	}
	for _, n := range names {
		if err := deleteSecretNamed(ctx, g, w, ns, n); err != nil {
			return err
		}
	}
	return nil
}

func deleteSecretNamed(ctx context.Context, g *globalFlags, w io.Writer, ns, name string) error {
	if err := g.client().do(ctx, "DELETE", secretPath(ns, name), nil, "", nil); err != nil {
		return fmt.Errorf("delete secret %s: %w", name, err)
	}
	fmt.Fprintf(w, "secret %q deleted\n", name)
	return nil
}
