package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/shoal-dev/shoal/deploy/lab"
)

// kubeconfig is the part of kubectl's config file shoal writes.
type kubeconfig struct {
	APIVersion     string            `json:"apiVersion"`
	Kind           string            `json:"kind"`
	Clusters       []namedCluster    `json:"clusters"`
	Users          []namedUser       `json:"users"`
	Contexts       []namedContext    `json:"contexts"`
	CurrentContext string            `json:"current-context"`
	Preferences    map[string]string `json:"preferences"`
}

type kubeconfigCluster struct {
	Server                string `json:"server"`
	InsecureSkipTLSVerify bool   `json:"insecure-skip-tls-verify,omitempty"`
}

type namedCluster struct {
	Name    string            `json:"name"`
	Cluster kubeconfigCluster `json:"cluster"`
}

type kubeconfigUser struct {
	// Token is the fleet's bearer token, when the agents require one.
	Token string `json:"token,omitempty"`
}

type namedUser struct {
	Name string         `json:"name"`
	User kubeconfigUser `json:"user"`
}

type kubeconfigContext struct {
	Cluster   string `json:"cluster"`
	User      string `json:"user"`
	Namespace string `json:"namespace,omitempty"`
}

type namedContext struct {
	Name    string            `json:"name"`
	Context kubeconfigContext `json:"context"`
}

// writeKubeconfig prints a kubeconfig whose one context points kubectl at
// server (an agent's API URL) as user "name", with token when the fleet
// has one.
func writeKubeconfig(w io.Writer, name, server, token, namespace string) error {
	if !strings.Contains(server, "://") {
		server = "http://" + server
	}
	cfg := kubeconfig{
		APIVersion: "v1",
		Kind:       "Config",
		Clusters: []namedCluster{{Name: name, Cluster: kubeconfigCluster{
			Server: strings.TrimRight(server, "/"),
			// An https agent with a certificate of its own: the config
			// names no CA yet, so kubectl must not insist on one.
			InsecureSkipTLSVerify: strings.HasPrefix(server, "https://"),
		}}},
		Users:          []namedUser{{Name: name, User: kubeconfigUser{Token: token}}},
		Contexts:       []namedContext{{Name: name, Context: kubeconfigContext{Cluster: name, User: name, Namespace: namespace}}},
		CurrentContext: name,
		Preferences:    map[string]string{},
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("encode kubeconfig: %w", err)
	}
	_, err = w.Write(out)
	return err
}

func newKubeconfigCmd(g *globalFlags) *cobra.Command {
	var server, token, name string
	cmd := &cobra.Command{
		Use:   "kubeconfig [--server URL]",
		Short: "Print a kubeconfig that points kubectl at a shoal agent",
		Long: "Print a kubeconfig that points kubectl at a shoal agent (--server, else --addr, $SHOAL_ADDR or http://127.0.0.1:7080):\n" +
			"  shoal kubeconfig > ~/.kube/shoal && KUBECONFIG=~/.kube/shoal kubectl get nodes",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if server == "" {
				server = g.client().base
			}
			if token == "" {
				token = os.Getenv("SHOAL_TOKEN")
			}
			return writeKubeconfig(cmd.OutOrStdout(), name, server, token, g.namespace)
		},
	}
	cmd.Flags().StringVar(&server, "server", "", "API URL of the agent kubectl talks to")
	cmd.Flags().StringVar(&token, "token", "", "the fleet's bearer token (default $SHOAL_TOKEN; none when the agents need none)")
	cmd.Flags().StringVar(&name, "name", "shoal", "name of the cluster, user and context")
	return cmd
}

func newLabKubeconfigCmd(stateRoot *string) *cobra.Command {
	return &cobra.Command{
		Use:   "kubeconfig NAME",
		Short: "Print a kubeconfig that points kubectl at a lab's first node",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := lab.Load(*stateRoot, args[0])
			if err != nil {
				return err
			}
			if len(l.Nodes) == 0 {
				return fmt.Errorf("lab %s has no nodes", l.Name)
			}
			return writeKubeconfig(cmd.OutOrStdout(), "shoal-lab-"+l.Name, l.Nodes[0].APIURL(), os.Getenv("SHOAL_TOKEN"), "")
		},
	}
}
