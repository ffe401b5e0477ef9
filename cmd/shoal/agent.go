package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shoal-dev/shoal/agent"
)

func newAgentCmd() *cobra.Command {
	cfg := agent.DefaultConfig()
	var labels []string
	var logJSON bool
	var logLevel string
	var configFile string
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run the shoal agent of this machine",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if configFile != "" {
				if err := agent.ApplyConfigFile(configFile, cmd.Flags()); err != nil {
					return err
				}
			}
			if cfg.Name == "" {
				h, err := os.Hostname()
				if err != nil {
					return fmt.Errorf("name: not given and no hostname: %w", err)
				}
				cfg.Name = h
			}
			cfg.Labels = map[string]string{}
			for _, l := range labels {
				k, v, ok := strings.Cut(l, "=")
				if !ok {
					return fmt.Errorf("--labels %q: want key=value", l)
				}
				cfg.Labels[k] = v
			}
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level %q: %w", logLevel, err)
			}
			opts := &slog.HandlerOptions{Level: level}
			var h slog.Handler = slog.NewTextHandler(os.Stderr, opts)
			if logJSON {
				h = slog.NewJSONHandler(os.Stderr, opts)
			}
			lib, err := agent.LibraryMetrics()
			if err != nil {
				return err
			}
			cfg.ExtraMetrics = lib
			agent.TuneGCForAgent() // agent/gc_idle.go
			return agent.Run(cmd.Context(), cfg, slog.New(h).With("node", cfg.Name))
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Name, "name", "", "node name (default: the hostname)")
	f.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "where the agent keeps Raft data, sandboxes and logs")
	f.StringVar(&cfg.BindAddr, "bind-addr", cfg.BindAddr, "IP to listen on")
	f.StringVar(&cfg.AdvertiseAddr, "advertise-addr", "", "IP other agents reach this one at (default: bind-addr)")
	f.IntVar(&cfg.APIPort, "api-port", cfg.APIPort, "port of the HTTP API")
	f.IntVar(&cfg.RaftPort, "raft-port", cfg.RaftPort, "port of Raft")
	f.IntVar(&cfg.GossipPort, "gossip-port", cfg.GossipPort, "port of gossip (UDP and TCP)")
	f.StringSliceVar(&cfg.Join, "join", nil, "gossip addresses (host:port) of agents already in the fleet")
	f.BoolVar(&cfg.Server, "server", false, "hold a Raft seat")
	f.IntVar(&cfg.BootstrapExpect, "bootstrap-expect", 0, "servers that must have met before Raft bootstraps (implies --server)")
	f.IntVar(&cfg.Servers, "servers", cfg.Servers, "Raft voters the fleet keeps")
	f.StringVar(&cfg.ContainerdAddress, "containerd", cfg.ContainerdAddress, "containerd socket")
	f.StringVar(&cfg.ContainerdNamespace, "containerd-namespace", cfg.ContainerdNamespace, "containerd namespace of this node")
	f.StringVar(&cfg.NetnsPrefix, "netns-prefix", cfg.NetnsPrefix, "name prefix of pod network namespaces")
	f.StringVar(&cfg.PodCIDR, "pod-cidr", cfg.PodCIDR, "the fleet's pod network, split into one block per node")
	f.IntVar(&cfg.BlockBits, "block-bits", cfg.BlockBits, "prefix length of each node's pod block")
	f.BoolVar(&cfg.ServiceRoute, "service-route", cfg.ServiceRoute, "route the service range in this agent's namespace for the node's own connections to ClusterIPs (only where no default route covers it; the lab's node namespaces)")
	f.StringVar(&cfg.DNSAddr, "dns-addr", cfg.DNSAddr, "where the node answers DNS for cluster.local, host:port (default: the advertise address, port 53; \"off\": none)")
	f.StringVar(&cfg.ServiceCIDR, "service-cidr", cfg.ServiceCIDR, "the fleet's service range, which Services' ClusterIPs come from (the same on every server)")
	f.StringSliceVar(&labels, "labels", nil, "node labels key=value")
	f.StringVar(&cfg.Memory, "memory", "", "allocatable memory (default: the machine's)")
	f.StringVar(&cfg.CPU, "cpu", "", "allocatable cpu (default: the machine's)")
	f.IntVar(&cfg.MaxPods, "max-pods", agent.DefaultMaxPods, "pods this node takes (the kubelet's default)")
	f.BoolVar(&logJSON, "log-json", false, "log JSON lines")
	f.BoolVar(&cfg.DebugPprof, "debug-pprof", false, "serve Go's CPU and memory profiles at /debug/pprof/ on the API port (always on, behind the token, when --token-file is set)")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&configFile, "config", "", "YAML file of agent settings: keys are these flags' names; flags given here win")
	f.StringVar(&cfg.Encrypt, "encrypt", "", "gossip encryption key, base64 (make one with shoal keygen); agents without it cannot join")
	f.StringVar(&cfg.TokenFile, "token-file", "", "file holding the bearer token the API requires (and agents send each other)")
	f.StringVar(&cfg.TLSCertFile, "tls-cert", "", "PEM certificate of this agent's API (TLS on when set)")
	f.StringVar(&cfg.TLSKeyFile, "tls-key", "", "PEM key of --tls-cert")
	f.StringVar(&cfg.TLSCAFile, "tls-ca", "", "PEM CA that signed the fleet's API certificates")
	f.StringSliceVar(&cfg.RegistryMirrors, "registry-mirror", nil, "registry mirror REGISTRY=URL (a bare URL mirrors docker.io), tried before the registry; repeatable")
	f.StringSliceVar(&cfg.InsecureRegistries, "insecure-registry", nil, "registry reached over plain HTTP: host, host:port or CIDR; repeatable")
	f.StringVar(&cfg.RegistryCA, "registry-ca", "", "PEM file of extra CAs trusted for registries over HTTPS")
	f.StringVar(&cfg.ImageFS, "image-fs", cfg.ImageFS, "a path on the filesystem that holds containerd's images (its root), watched for image garbage collection")
	f.IntVar(&cfg.ImageGCHighPercent, "image-gc-high-threshold", cfg.ImageGCHighPercent, "percent of image-fs used above which unused images are removed (above 100: never)")
	f.DurationVar(&cfg.ImageGCInterval, "image-gc-interval", cfg.ImageGCInterval, "how often image-fs is looked at for image garbage collection")
	f.IntVar(&cfg.ImageGCLowPercent, "image-gc-low-threshold", cfg.ImageGCLowPercent, "percent of image-fs used that image garbage collection frees the disk down to")
	f.DurationVar(&cfg.RestartGrace, "restart-grace", agent.DefaultRestartGrace, "how long the fleet keeps this node's pods after the agent is stopped on purpose (SIGTERM: systemctl restart, an upgrade) before it replaces them; a crash gets the node grace; 0: every stop is a crash")
	f.DurationVar(&cfg.NodeGrace, "node-grace", 0, "how long a failed agent may stay unreachable before its node is NotReady and its replicas are replaced (default 2s; 10s with --gossip-profile wan, 8s with large; the same on every agent)")
	f.StringVar(&cfg.GossipProfile, "gossip-profile", "lan", "gossip timings: lan, wan for sites joined by slow uplinks, or large for fleets of hundreds of agents (both: slower failover; the same on every agent)")
	f.StringVar(&cfg.Zone, "zone", "", "this node's zone, reported as its topology.kubernetes.io/zone label")
	f.StringVar(&cfg.SeatZone, "seat-zone", "", "the zone whose agents the leader gives Raft seats first (an edge fleet's central site)")
	return cmd
}
