package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/api/printers"
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
		return "", fmt.Errorf("create secret %s: %w", s.ObjectMeta.Name, err)
	}
	if err := c.sendJSON(ctx, "PUT", secretPath(ns, s.ObjectMeta.Name), s, nil); err != nil {
		return "", fmt.Errorf("update secret %s: %w", s.ObjectMeta.Name, err)
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
	now := time.Now()
	for i := range list {
		s := &list[i]
		s.APIVersion, s.Kind = "v1", "Secret"
		items = append(items, s)
		var row []string
		if withNS {
			row = append(row, s.ObjectMeta.Namespace)
		}
		for _, c := range printers.Secret(s, now) { // the shared printer (api/printers)
			row = append(row, fmt.Sprint(c))
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

// newCreateCmd is `shoal create secret docker-registry`, kubectl's way of
// making a pull secret, for fleets whose users have no kubectl.
func newCreateCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "create", Short: "Create an object from flags"}
	secret := &cobra.Command{Use: "secret", Short: "Create a Secret"}
	var server, user, password, email string
	docker := &cobra.Command{
		Use:   "docker-registry NAME --docker-server=HOST[:PORT] --docker-username=U --docker-password=P",
		Short: "Create a kubernetes.io/dockerconfigjson Secret for imagePullSecrets",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if user == "" || password == "" {
				return fmt.Errorf("--docker-username and --docker-password are required")
			}
			cfg, err := dockerConfigJSON(server, user, password, email)
			if err != nil {
				return err
			}
			ns := g.namespace
			if ns == "" {
				ns = api.DefaultNamespace
			}
			s := &api.Secret{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Secret"},
				ObjectMeta: api.ObjectMeta{Name: args[0], Namespace: ns},
				Type:       api.SecretTypeDockerConfigJSON, Data: map[string][]byte{api.DockerConfigJSONKey: cfg}}
			if err := g.client().sendJSON(cmd.Context(), "POST", secretsPath(ns), s, nil); err != nil {
				return fmt.Errorf("create secret %s: %w", args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "secret/%s created\n", args[0])
			return nil
		},
	}
	f := docker.Flags()
	f.StringVar(&server, "docker-server", "https://index.docker.io/v1/", "registry the login is for, as image references name it (host[:port])")
	f.StringVar(&user, "docker-username", "", "user name for the registry")
	f.StringVar(&password, "docker-password", "", "password for the registry")
	f.StringVar(&email, "docker-email", "", "email for the registry (kept, unused)")
	secret.AddCommand(docker)
	cmd.AddCommand(secret)
	return cmd
}

// dockerConfigJSON is the .dockerconfigjson kubectl writes: the login both
// as username/password and as auth.
func dockerConfigJSON(server, user, password, email string) ([]byte, error) {
	entry := map[string]string{"username": user, "password": password,
		"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + password))}
	if email != "" {
		entry["email"] = email
	}
	return json.Marshal(map[string]any{"auths": map[string]any{server: entry}})
}
