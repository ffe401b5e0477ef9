// Package podruntime runs a pod's containers through containerd: it keeps a
// sandbox (the pod's IPC and UTS namespaces) for the life of the pod, joins
// every container to it and to the pod's network namespace, restarts
// containers by the pod's restart policy and reports their status the way
// Kubernetes does.
package podruntime

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/identifiers"
	"github.com/containerd/containerd/namespaces"
)

// Config says which containerd to use and where this node keeps its state.
type Config struct {
	Address   string // containerd socket, e.g. /run/containerd/containerd.sock
	Namespace string // containerd namespace of this node, e.g. "shoal" or "shoal-lab1-n1"
	StateDir  string // sandboxes (pinned namespaces) and container logs live here
	// StopGrace is how long a container gets between SIGTERM and SIGKILL
	// when it is stopped; zero means DefaultStopGrace.
	StopGrace time.Duration
	Log       *slog.Logger
	// Events receives what happens to pods; nil discards them.
	Events EventRecorder
	// Registries says how images are pulled: mirrors, plain-HTTP
	// registries, an extra CA.
	Registries RegistryConfig
	// Credentials resolves a pod's imagePullSecrets; nil pulls anonymously.
	Credentials CredentialSource
	// Objects reads the ConfigMaps and Secrets pods consume (env, envFrom,
	// volumes); nil fails every pod that consumes one.
	Objects ObjectSource
	// ClusterDNS, when set, is the resolver of pods with dnsPolicy
	// ClusterFirst (podruntime/resolvconf.go); nil leaves the image's
	// resolv.conf.
	ClusterDNS *ClusterDNS
	// HostResolvConf is the machine's resolv.conf, the base of a dnsPolicy
	// Default pod with a dnsConfig; empty is DefaultHostResolvConf.
	HostResolvConf string
	// API is how pods reach the fleet's API (serviceaccount.go); nil
	// gives them neither a token nor the variables.
	API *APIAccess
}

// DefaultStopGrace is short because the agent stops containers inline while
// reconciling; Kubernetes' 30s would stall every other pod of the node.
const DefaultStopGrace = 5 * time.Second

// Runtime runs pods on one node through one containerd namespace.
type Runtime struct {
	client     *containerd.Client
	ns         string
	stateDir   string
	stopGrace  time.Duration
	log        *slog.Logger
	now        func() time.Time
	backoff    *backoff
	locks      *keyedMutex
	events     EventRecorder
	eventsSeen *eventOnce
	probes     *probeManager
	pulls      *pulls
	// imageUse keeps image garbage collection (write) out of the moment
	// between finding a container's image and creating the container from
	// it (read), when nothing else marks the image as used.
	imageUse   sync.RWMutex
	registries *registries
	creds      CredentialSource
	objects    ObjectSource
	clusterDNS *ClusterDNS
	// hostResolvConf: Config.HostResolvConf.
	hostResolvConf string
	api            *APIAccess
	saTokens       saTokens
	// baseCtx outlives any one sync: background pulls run under it and
	// end with Close.
	baseCtx context.Context
	cancel  context.CancelFunc
	// changes: Changes (changes.go).
	changes chan struct{}
	// logs copies the tasks' output into their logs (logio.go).
	logs logIOs
	// names: the containers each pod may have, read by id (reads.go).
	names *podNames
}

// New connects to containerd and prepares the state directory.
func New(ctx context.Context, cfg Config) (*Runtime, error) {
	if cfg.Address == "" || cfg.Namespace == "" || cfg.StateDir == "" {
		return nil, errors.New("podruntime: Address, Namespace and StateDir are required")
	}
	if err := identifiers.Validate(cfg.Namespace); err != nil {
		return nil, fmt.Errorf("podruntime: namespace %q: %w", cfg.Namespace, err)
	}
	stateDir, err := filepath.Abs(cfg.StateDir)
	if err != nil {
		return nil, fmt.Errorf("podruntime: state dir %s: %w", cfg.StateDir, err)
	}
	for _, d := range []string{sandboxesDir(stateDir), logsDir(stateDir), fifosDir(stateDir)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("podruntime: create %s: %w", d, err)
		}
	}
	regs, err := newRegistries(cfg.Registries)
	if err != nil {
		return nil, fmt.Errorf("podruntime: %w", err)
	}
	client, err := containerd.New(cfg.Address, containerd.WithDefaultNamespace(cfg.Namespace))
	if err != nil {
		return nil, fmt.Errorf("podruntime: connect to containerd at %s: %w", cfg.Address, err)
	}
	if _, err := client.Version(namespaces.WithNamespace(ctx, cfg.Namespace)); err != nil {
		client.Close()
		return nil, fmt.Errorf("podruntime: containerd at %s does not answer: %w", cfg.Address, err)
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	grace := cfg.StopGrace
	if grace <= 0 {
		grace = DefaultStopGrace
	}
	events := cfg.Events
	if events == nil {
		events = discardEvents{}
	}
	baseCtx, cancel := context.WithCancel(context.Background())
	r := &Runtime{
		pulls:          newPulls(),
		registries:     regs,
		creds:          cfg.Credentials,
		objects:        cfg.Objects,
		clusterDNS:     cfg.ClusterDNS,
		api:            cfg.API,
		saTokens:       saTokens{tokens: map[string]saToken{}},
		hostResolvConf: cmp.Or(cfg.HostResolvConf, DefaultHostResolvConf),
		baseCtx:        baseCtx,
		cancel:         cancel,
		events:         events,
		eventsSeen:     newEventOnce(),
		probes:         newProbeManager(),
		client:         client,
		ns:             cfg.Namespace,
		stateDir:       stateDir,
		stopGrace:      grace,
		log:            log.With("component", "podruntime", "namespace", cfg.Namespace),
		now:            time.Now,
		backoff:        newBackoff(10*time.Second, 5*time.Minute),
		locks:          newKeyedMutex(),
		changes:        make(chan struct{}, 1),
		names:          newPodNames(),
	}
	if err := r.reattachLogs(ctx); err != nil {
		r.log.Warn("the logs of some running containers stop here", "err", err)
	}
	return r, nil
}

// Close stops the probes and the copying of the containers' output, and
// drops the containerd connection; pods keep running, and the next
// runtime over the same state goes on with their logs.
func (r *Runtime) Close() error {
	r.probes.stopAll()
	r.logs.detachAll()
	r.cancel()
	return r.client.Close()
}

// withNS makes ctx carry this node's containerd namespace.
func (r *Runtime) withNS(ctx context.Context) context.Context {
	return namespaces.WithNamespace(ctx, r.ns)
}

func sandboxesDir(stateDir string) string { return filepath.Join(stateDir, "sandboxes") }
func volumesDir(stateDir string) string   { return filepath.Join(stateDir, "volumes") }
func logsDir(stateDir string) string      { return filepath.Join(stateDir, "logs") }

// LogPath is where the stdout and stderr of a pod's container are written.
func (r *Runtime) LogPath(podUID, container string) string {
	return filepath.Join(logsDir(r.stateDir), podUID, container+".log")
}
