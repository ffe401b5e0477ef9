package podruntime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/shoal-dev/shoal/api"
)

// emptyDirPath is where an emptyDir volume of a pod lives on the node; it is
// made with the pod's first sync and removed with the pod.
func (r *Runtime) emptyDirPath(podUID, volume string) string {
	return filepath.Join(volumesDir(r.stateDir), podUID, volume)
}

// ensureVolumes creates the pod's emptyDirs, checks (or creates) its
// hostPaths as their type asks and writes the files of its configMap,
// secret, downwardAPI and projected volumes (volumes_data.go). It is
// idempotent: files already written to an emptyDir stay.
func (r *Runtime) ensureVolumes(ctx context.Context, pod *api.Pod) error {
	var objs *objectCache
	for _, v := range pod.Spec.Volumes {
		switch {
		case api.IsDataVolume(&v):
			if objs == nil {
				objs = newObjectCache(r.objects, pod.ObjectMeta.Namespace)
			}
			if err := r.ensureDataVolume(ctx, objs, pod, &v); err != nil {
				return fmt.Errorf("volume %s: %w", v.Name, err)
			}
		case v.EmptyDir != nil:
			dir := r.emptyDirPath(string(pod.ObjectMeta.UID), v.Name)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("volume %s: create emptyDir: %w", v.Name, err)
			}
			if v.EmptyDir.Medium == api.EmptyDirMediumMemory {
				if err := mountTmpfs(dir, v.EmptyDir); err != nil {
					return fmt.Errorf("volume %s: %w", v.Name, err)
				}
			}
			// World-writable like Kubernetes' emptyDir, so containers that run
			// as another user can share it; MkdirAll's mode is cut by umask.
			if err := os.Chmod(dir, 0o777); err != nil {
				return fmt.Errorf("volume %s: %w", v.Name, err)
			}
		case v.HostPath != nil:
			if err := ensureHostPath(v.HostPath); err != nil {
				return fmt.Errorf("volume %s: %w", v.Name, err)
			}
		default:
			return fmt.Errorf("volume %s: no supported source", v.Name)
		}
	}
	return r.ensureServiceAccountVolume(ctx, pod) // serviceaccount.go
}

func ensureHostPath(h *api.HostPathVolumeSource) error {
	typ := api.HostPathType(h)
	switch typ {
	case api.HostPathDirectoryOrCreate:
		if err := os.MkdirAll(h.Path, 0o755); err != nil {
			return fmt.Errorf("hostPath %s: %w", h.Path, err)
		}
		return nil
	case api.HostPathFileOrCreate:
		f, err := os.OpenFile(h.Path, os.O_CREATE|os.O_RDONLY, 0o644)
		if err != nil {
			return fmt.Errorf("hostPath %s: %w", h.Path, err)
		}
		return f.Close()
	case api.HostPathUnset:
		return nil
	}
	fi, err := os.Stat(h.Path)
	if err != nil {
		return fmt.Errorf("hostPath %s (type %s): %w", h.Path, typ, err)
	}
	mode := fi.Mode()
	ok := map[string]bool{
		string(api.HostPathDirectory): mode.IsDir(),
		string(api.HostPathFile):      mode.IsRegular(),
		string(api.HostPathSocket):    mode&os.ModeSocket != 0,
		string(api.HostPathCharDev):   mode&os.ModeCharDevice != 0,
		string(api.HostPathBlockDev):  mode&os.ModeDevice != 0 && mode&os.ModeCharDevice == 0,
	}[string(typ)]
	if !ok {
		return fmt.Errorf("hostPath %s is not a %s (mode %s)", h.Path, typ, mode)
	}
	return nil
}

// volumeMounts turns a container's volumeMounts into bind mounts of the
// pod's volumes. A subPath is created inside the volume when missing, as
// Kubernetes does, and may not lead out of it through a symlink.
func (r *Runtime) volumeMounts(pod *api.Pod, c api.Container) ([]specs.Mount, error) {
	byName := map[string]api.Volume{}
	for _, v := range pod.Spec.Volumes {
		byName[v.Name] = v
	}
	var out []specs.Mount
	for _, m := range c.VolumeMounts {
		v, ok := byName[m.Name]
		if !ok {
			return nil, fmt.Errorf("container %s: mount of unknown volume %s", c.Name, m.Name)
		}
		var src string
		readOnly := m.ReadOnly
		switch {
		case v.EmptyDir != nil:
			src = r.emptyDirPath(string(pod.ObjectMeta.UID), v.Name)
		case v.HostPath != nil:
			src = v.HostPath.Path
		case api.IsDataVolume(&v):
			// Written by the node, read-only in every container, as the
			// kubelet mounts them.
			src, readOnly = r.emptyDirPath(string(pod.ObjectMeta.UID), v.Name), true
		}
		if m.SubPath != "" {
			sub, err := subPathSource(src, m.SubPath)
			if err != nil {
				return nil, fmt.Errorf("container %s: volume %s: %w", c.Name, m.Name, err)
			}
			src = sub
		}
		mode := "rw"
		if readOnly {
			mode = "ro"
		}
		out = append(out, specs.Mount{Destination: m.MountPath, Type: "bind", Source: src, Options: []string{"rbind", mode}})
	}
	return append(out, r.serviceAccountMount(pod, c)...), nil // serviceaccount.go
}

func subPathSource(root, sub string) (string, error) {
	p := filepath.Join(root, sub)
	if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(p, 0o777); err != nil {
			return "", fmt.Errorf("create subPath %s: %w", sub, err)
		}
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", fmt.Errorf("resolve volume: %w", err)
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", fmt.Errorf("resolve subPath %s: %w", sub, err)
	}
	if real != realRoot && !strings.HasPrefix(real, realRoot+string(filepath.Separator)) {
		return "", fmt.Errorf("subPath %s leads out of the volume", sub)
	}
	return real, nil
}

// mountTmpfs makes dir a tmpfs unless it already is one (a sync after the
// first, or after an agent restart), sized by the volume's sizeLimit.
func mountTmpfs(dir string, e *api.EmptyDirVolumeSource) error {
	mounted, err := isMountPoint(dir)
	if err != nil || mounted {
		return err
	}
	opts := "mode=0777"
	if e.SizeLimit != nil {
		opts += fmt.Sprintf(",size=%d", e.SizeLimit.Value())
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", dir, err)
	}
	return nil
}

// isMountPoint tells whether dir is on another device than its parent.
func isMountPoint(dir string) (bool, error) {
	var st, parent unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return false, fmt.Errorf("stat %s: %w", dir, err)
	}
	if err := unix.Stat(filepath.Dir(dir), &parent); err != nil {
		return false, fmt.Errorf("stat %s: %w", filepath.Dir(dir), err)
	}
	return st.Dev != parent.Dev, nil
}

// removeVolumes deletes the pod's emptyDirs, unmounting those in memory
// first; hostPaths belong to the node.
func (r *Runtime) removeVolumes(podUID string) error {
	r.forgetToken(podUID) // serviceaccount.go
	root := filepath.Join(volumesDir(r.stateDir), podUID)
	entries, err := os.ReadDir(root)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("list volumes of pod %s: %w", podUID, err)
	}
	for _, e := range entries {
		dir := filepath.Join(root, e.Name())
		if mounted, err := isMountPoint(dir); err == nil && mounted {
			if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
				return fmt.Errorf("unmount volume %s of pod %s: %w", e.Name(), podUID, err)
			}
		}
	}
	if err := os.RemoveAll(root); err != nil {
		return fmt.Errorf("remove emptyDir volumes of pod %s: %w", podUID, err)
	}
	return nil
}
