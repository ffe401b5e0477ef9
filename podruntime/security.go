package podruntime

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/contrib/seccomp"
	"github.com/containerd/containerd/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/shoal-dev/shoal/api"
)

// effectiveSecurity is a container's security context merged with its
// pod's, as the kubelet merges them (securitycontext.DetermineEffective...):
// the container's own fields win.
type effectiveSecurity struct {
	runAsUser, runAsGroup *int64
	runAsNonRoot          bool
	seccomp               *api.SeccompProfile
	groups                []int64 // supplementalGroups, then fsGroup
	sc                    *api.SecurityContext
}

func securityOf(pod *api.Pod, c api.Container) effectiveSecurity {
	var e effectiveSecurity
	if p := pod.Spec.SecurityContext; p != nil {
		e.runAsUser, e.runAsGroup, e.seccomp = p.RunAsUser, p.RunAsGroup, p.SeccompProfile
		e.runAsNonRoot = p.RunAsNonRoot != nil && *p.RunAsNonRoot
		e.groups = append(e.groups, p.SupplementalGroups...)
		if p.FSGroup != nil {
			e.groups = append(e.groups, *p.FSGroup)
		}
	}
	if sc := c.SecurityContext; sc != nil {
		e.sc = sc
		if sc.RunAsUser != nil {
			e.runAsUser = sc.RunAsUser
		}
		if sc.RunAsGroup != nil {
			e.runAsGroup = sc.RunAsGroup
		}
		if sc.RunAsNonRoot != nil {
			e.runAsNonRoot = *sc.RunAsNonRoot
		}
		if sc.SeccompProfile != nil {
			e.seccomp = sc.SeccompProfile
		}
	}
	return e
}

// securityOpts are the OCI options of a container's security context; they
// come after the image config, whose user they override.
func securityOpts(pod *api.Pod, c api.Container) []oci.SpecOpts {
	e := securityOf(pod, c)
	var opts []oci.SpecOpts
	switch {
	case e.runAsUser != nil && e.runAsGroup != nil:
		opts = append(opts, oci.WithUIDGID(uint32(*e.runAsUser), uint32(*e.runAsGroup)))
	case e.runAsUser != nil:
		opts = append(opts, oci.WithUserID(uint32(*e.runAsUser))) // the group from the image's /etc/passwd, else 0
	case e.runAsGroup != nil:
		opts = append(opts, withGID(uint32(*e.runAsGroup)))
	}
	if len(e.groups) > 0 {
		opts = append(opts, withExtraGIDs(e.groups))
	}
	if e.seccomp != nil && e.seccomp.Type == api.SeccompRuntimeDefault {
		opts = append(opts, seccomp.WithDefaultProfile())
	}
	sc := e.sc
	if sc == nil {
		return opts
	}
	if sc.Privileged != nil && *sc.Privileged {
		// As containerd's CRI plugin makes a privileged container: every
		// capability, the host's devices, writable /sys, no seccomp.
		opts = append(opts, oci.WithPrivileged, oci.WithAllDevicesAllowed, oci.WithHostDevices)
	}
	if caps := sc.Capabilities; caps != nil {
		opts = append(opts, capabilityOpts(caps)...)
	}
	if sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem {
		opts = append(opts, oci.WithRootFSReadonly())
	}
	if sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
		opts = append(opts, oci.WithNoNewPrivileges)
	}
	return opts
}

// capabilityOpts drops, then adds, as the kubelet does; ALL means every
// capability.
func capabilityOpts(caps *api.Capabilities) []oci.SpecOpts {
	var opts []oci.SpecOpts
	var drop, add []string
	dropAll, addAll := false, false
	for _, c := range caps.Drop {
		if strings.EqualFold(string(c), "ALL") {
			dropAll = true
			continue
		}
		drop = append(drop, api.CapabilityName(c))
	}
	for _, c := range caps.Add {
		if strings.EqualFold(string(c), "ALL") {
			addAll = true
			continue
		}
		add = append(add, api.CapabilityName(c))
	}
	if dropAll {
		opts = append(opts, oci.WithCapabilities(nil))
	} else if len(drop) > 0 {
		opts = append(opts, oci.WithDroppedCapabilities(drop))
	}
	if addAll {
		opts = append(opts, oci.WithAllCurrentCapabilities)
	} else if len(add) > 0 {
		opts = append(opts, oci.WithAddedCapabilities(add))
	}
	return opts
}

func withGID(gid uint32) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		if s.Process == nil {
			s.Process = &specs.Process{}
		}
		s.Process.User.GID = gid
		return nil
	}
}

func withExtraGIDs(groups []int64) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		if s.Process == nil {
			s.Process = &specs.Process{}
		}
		for _, g := range groups {
			s.Process.User.AdditionalGids = append(s.Process.User.AdditionalGids, uint32(g))
		}
		return nil
	}
}

// nonRootViolation is why a container that must not run as root would
// (the kubelet's verifyRunAsNonRoot), "" when it may start: its runAsUser,
// or else the image's user, must be a number other than 0.
func nonRootViolation(ctx context.Context, pod *api.Pod, c api.Container, img containerd.Image) (string, error) {
	e := securityOf(pod, c)
	if !e.runAsNonRoot {
		return "", nil
	}
	if e.runAsUser != nil {
		if *e.runAsUser == 0 {
			return fmt.Sprintf("container %s's runAsUser breaks non-root policy (pod: %q, container: %s)", c.Name, pod.ObjectMeta.Name, c.Name), nil
		}
		return "", nil
	}
	spec, err := img.Spec(ctx)
	if err != nil {
		return "", fmt.Errorf("read the config of image %s: %w", img.Name(), err)
	}
	user, _, _ := strings.Cut(spec.Config.User, ":")
	if user == "" {
		return "container has runAsNonRoot and image will run as root (pod: \"" + pod.ObjectMeta.Name + "\", container: " + c.Name + ")", nil
	}
	uid, err := strconv.ParseInt(user, 10, 64)
	switch {
	case err != nil:
		return fmt.Sprintf("container has runAsNonRoot and image has non-numeric user (%s), cannot verify user is non-root (pod: %q, container: %s)", user, pod.ObjectMeta.Name, c.Name), nil
	case uid == 0:
		return "container has runAsNonRoot and image will run as root (pod: \"" + pod.ObjectMeta.Name + "\", container: " + c.Name + ")", nil
	}
	return "", nil
}

// admitNonRoot keeps a container that runAsNonRoot forbids from starting:
// it waits with CreateContainerConfigError and the reason, as the
// kubelet's does, and a later sync checks again.
func (r *Runtime) admitNonRoot(ctx context.Context, pod *api.Pod, c api.Container, img containerd.Image) (bool, error) {
	why, err := nonRootViolation(ctx, pod, c, img)
	if err != nil || why == "" {
		return err == nil, err
	}
	r.pulls.setWaiting(pullKey(string(pod.ObjectMeta.UID), c.Name), ReasonCreateContainerConfigError, why)
	r.eventOnce(pod, "NonRoot/"+c.Name, EventWarning, "Failed", "Error: "+why)
	return false, nil
}
