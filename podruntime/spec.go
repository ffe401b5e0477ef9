package podruntime

import (
	"fmt"
	"path/filepath"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/shoal-dev/shoal/api"
)

// cfsPeriod is the CFS period CPU limits are expressed against (100ms, as
// the kubelet uses).
const cfsPeriod = 100000

// specOpts builds the container's OCI spec from composable options. Order
// matters: the image config first (it sets args, env and cwd), then what the
// pod overrides.
// env is the container's environment, resolved (podruntime/env.go).
func (r *Runtime) specOpts(pod *api.Pod, c api.Container, img containerd.Image, netnsPath string, env []string) ([]oci.SpecOpts, error) {
	uid := pod.ObjectMeta.UID
	opts := []oci.SpecOpts{processArgs(c, img)}
	if len(env) > 0 {
		opts = append(opts, oci.WithEnv(env))
	}
	if c.WorkingDir != "" {
		opts = append(opts, oci.WithProcessCwd(c.WorkingDir))
	}
	limits, err := resourceOpts(c)
	if err != nil {
		return nil, err
	}
	opts = append(opts, limits...)
	opts = append(opts, securityOpts(pod, c)...) // security.go: after the image config's user
	mounts, err := r.volumeMounts(pod, c)
	if err != nil {
		return nil, err
	}
	resolv, err := r.resolvConfMount(pod)
	if err != nil {
		return nil, err
	}

	// No spec hostname: the joined UTS namespace already carries it, and
	// newer runc refuses to set a hostname in a namespace it did not create.
	opts = append(opts,
		oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.IPCNamespace, Path: r.sandboxNSPath(string(uid), "ipc")}),
		oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.UTSNamespace, Path: r.sandboxNSPath(string(uid), "uts")}),
		oci.WithMounts([]specs.Mount{
			sandboxFileMount(r.sandboxDir(string(uid)), "hostname", "/etc/hostname"),
			sandboxFileMount(r.sandboxDir(string(uid)), "hosts", "/etc/hosts"),
		}),
		oci.WithMounts(resolv),
		oci.WithMounts(mounts),
	)
	if netnsPath != "" {
		opts = append(opts, oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: netnsPath}))
	}
	opts = append(opts, r.pidNamespaceOpts(pod)...) // pidns.go
	return opts, nil
}

// processArgs applies Kubernetes' rules: command replaces the image's
// ENTRYPOINT (and drops its CMD), args replace CMD.
func processArgs(c api.Container, img containerd.Image) oci.SpecOpts {
	switch {
	case len(c.Command) > 0:
		args := append(append([]string{}, c.Command...), c.Args...)
		return oci.Compose(oci.WithImageConfig(img), oci.WithProcessArgs(args...))
	case len(c.Args) > 0:
		return oci.WithImageConfigArgs(img, c.Args)
	default:
		return oci.WithImageConfig(img)
	}
}

func resourceOpts(c api.Container) ([]oci.SpecOpts, error) {
	var opts []oci.SpecOpts
	if q, ok := c.Resources.Limits[api.ResourceMemory]; ok {
		v := q.Value()
		if v <= 0 {
			return nil, fmt.Errorf("container %s: memory limit %s must be positive", c.Name, q.String())
		}
		opts = append(opts, oci.WithMemoryLimit(uint64(v)))
	}
	if q, ok := c.Resources.Requests[api.ResourceCPU]; ok {
		// The request as CPU shares, as the kubelet sets them: the share a
		// container gets when the node's CPUs are contended.
		shares := q.MilliValue() * 1024 / 1000
		if shares < 2 { // the kernel's minimum
			shares = 2
		}
		opts = append(opts, oci.WithCPUShares(uint64(shares)))
	}
	if q, ok := c.Resources.Limits[api.ResourceCPU]; ok {
		milli := q.MilliValue()
		if milli <= 0 {
			return nil, fmt.Errorf("container %s: cpu limit %s must be positive", c.Name, q.String())
		}
		quota := milli * cfsPeriod / 1000
		if quota < 1000 { // the kernel's minimum quota is 1ms
			quota = 1000
		}
		opts = append(opts, oci.WithCPUCFS(quota, cfsPeriod))
	}
	return opts, nil
}

func sandboxFileMount(dir, name, dest string) specs.Mount {
	return specs.Mount{
		Destination: dest,
		Type:        "bind",
		Source:      filepath.Join(dir, name),
		Options:     []string{"rbind", "ro"},
	}
}
