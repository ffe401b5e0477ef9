package main

import (
	"fmt"
	"io"
	"path/filepath"
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
	CertificateAuthority  string `json:"certificate-authority,omitempty"`
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

// kubeTarget is what a kubeconfig points kubectl at.
type kubeTarget struct {
	server    string // an agent's API URL
	token     string // the fleet's bearer token, "" when it has none
	caFile    string // the CA of an https agent's certificate, if known
	namespace string
}

// writeKubeconfig prints a kubeconfig whose one context, called name,
// points kubectl at the target.
func writeKubeconfig(w io.Writer, name string, t kubeTarget) error {
	server := t.server
	if !strings.Contains(server, "://") {
		server = "http://" + server
	}
	cfg := kubeconfig{
		APIVersion: "v1",
		Kind:       "Config",
		Clusters: []namedCluster{{Name: name, Cluster: kubeconfigCluster{
			Server:               strings.TrimRight(server, "/"),
			CertificateAuthority: t.caFile,
			// An https agent whose CA the CLI does not know: kubectl must
			// not insist on one either.
			InsecureSkipTLSVerify: strings.HasPrefix(server, "https://") && t.caFile == "",
		}}},
		Users:          []namedUser{{Name: name, User: kubeconfigUser{Token: t.token}}},
		Contexts:       []namedContext{{Name: name, Context: kubeconfigContext{Cluster: name, User: name, Namespace: t.namespace}}},
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
		Long: "Print a kubeconfig that points kubectl at a shoal agent: --server, else where the CLI points\n" +
			"(--addr, $SHOAL_ADDR, the CLI config or http://127.0.0.1:7080), with the CLI's token and CA:\n" +
			"  shoal kubeconfig > ~/.kube/shoal && KUBECONFIG=~/.kube/shoal kubectl get nodes",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cc, err := loadCLIConfig()
			if err != nil {
				return err
			}
			t := kubeTarget{server: server, token: token, caFile: cc.CertificateAuthority, namespace: g.namespace}
			if t.server == "" {
				t.server = g.client().base
			}
			if t.token == "" {
				t.token = cc.Token
			}
			if t.caFile != "" {
				if t.caFile, err = filepath.Abs(t.caFile); err != nil {
					return fmt.Errorf("CA file: %w", err)
				}
			}
			return writeKubeconfig(cmd.OutOrStdout(), name, t)
		},
	}
	cmd.Flags().StringVar(&server, "server", "", "API URL of the agent kubectl talks to")
	cmd.Flags().StringVar(&token, "token", "", "the fleet's bearer token (default: the CLI's, from $SHOAL_TOKEN or its config)")
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
			return writeKubeconfig(cmd.OutOrStdout(), "shoal-lab-"+l.Name, kubeTarget{server: l.Nodes[0].APIURL()})
		},
	}
}
