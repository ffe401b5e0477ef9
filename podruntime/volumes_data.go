package podruntime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// Volumes whose files come from the fleet's objects (configMap, secret,
// downwardAPI, projected) are written by every sync of the pod, so a change
// of a ConfigMap or Secret reaches the files within the node's resync. They
// are written as the kubelet's AtomicWriter does: the files go into a new
// timestamped directory, the symlink ..data is swapped to it by one rename,
// and every top-level name the user sees is a symlink through ..data; a
// reader sees the old set or the new one, never a mix.

// dataLink is the symlink to the current timestamped directory.
const dataLink = "..data"

// volumeFile is one file of a data volume.
type volumeFile struct {
	data []byte
	mode os.FileMode
}

// fileMode is the item's mode, else the volume's default, else 0644.
func fileMode(item, dflt *int32) os.FileMode {
	switch {
	case item != nil:
		return os.FileMode(*item)
	case dflt != nil:
		return os.FileMode(*dflt)
	}
	return os.FileMode(api.DefaultVolumeMode)
}

// dataVolumeFiles computes the files of a data volume from the objects it
// names. A missing object or key that is not optional is an error naming
// it.
func dataVolumeFiles(ctx context.Context, objs *objectCache, pod *api.Pod, v *api.Volume) (map[string]volumeFile, error) {
	out := map[string]volumeFile{}
	switch {
	case v.ConfigMap != nil:
		s := v.ConfigMap
		return out, configMapFiles(ctx, objs, out, s.Name, s.Items, s.Optional, s.DefaultMode)
	case v.Secret != nil:
		s := v.Secret
		return out, secretFiles(ctx, objs, out, s.SecretName, s.Items, s.Optional, s.DefaultMode)
	case v.DownwardAPI != nil:
		return out, downwardFiles(pod, out, v.DownwardAPI.Items, v.DownwardAPI.DefaultMode)
	case v.Projected != nil:
		dflt := v.Projected.DefaultMode
		for _, src := range v.Projected.Sources {
			var err error
			switch {
			case src.ConfigMap != nil:
				err = configMapFiles(ctx, objs, out, src.ConfigMap.Name, src.ConfigMap.Items, src.ConfigMap.Optional, dflt)
			case src.Secret != nil:
				err = secretFiles(ctx, objs, out, src.Secret.Name, src.Secret.Items, src.Secret.Optional, dflt)
			case src.DownwardAPI != nil:
				err = downwardFiles(pod, out, src.DownwardAPI.Items, dflt)
			default:
				err = errors.New("projected source of a kind shoal does not support")
			}
			if err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("volume %s has no data source", v.Name)
}

func configMapFiles(ctx context.Context, objs *objectCache, out map[string]volumeFile, name string, items []api.KeyToPath, optional *bool, dflt *int32) error {
	cm, err := objs.configMap(ctx, name)
	if err != nil {
		return err
	}
	opt := optional != nil && *optional
	if cm == nil {
		if opt {
			return nil
		}
		return fmt.Errorf("configmap %q not found", name)
	}
	return keyFiles(out, "configmap", name, configMapData(cm), items, opt, dflt)
}

func secretFiles(ctx context.Context, objs *objectCache, out map[string]volumeFile, name string, items []api.KeyToPath, optional *bool, dflt *int32) error {
	s, err := objs.secret(ctx, name)
	if err != nil {
		return err
	}
	opt := optional != nil && *optional
	if s == nil {
		if opt {
			return nil
		}
		return fmt.Errorf("secret %q not found", name)
	}
	return keyFiles(out, "secret", name, s.Data, items, opt, dflt)
}

// keyFiles adds every key as a file of its name, or only the items, each
// at its path.
func keyFiles(out map[string]volumeFile, kind, name string, data map[string][]byte, items []api.KeyToPath, optional bool, dflt *int32) error {
	if len(items) == 0 {
		for k, v := range data {
			out[k] = volumeFile{data: v, mode: fileMode(nil, dflt)}
		}
		return nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if optional {
				continue
			}
			return fmt.Errorf("%s %q has no key %q", kind, name, it.Key)
		}
		out[it.Path] = volumeFile{data: v, mode: fileMode(it.Mode, dflt)}
	}
	return nil
}

func downwardFiles(pod *api.Pod, out map[string]volumeFile, items []api.DownwardAPIVolumeFile, dflt *int32) error {
	for _, it := range items {
		if it.FieldRef == nil {
			return fmt.Errorf("downwardAPI item %s: no fieldRef", it.Path)
		}
		v, err := podFieldValue(pod, it.FieldRef.FieldPath)
		if err != nil {
			return fmt.Errorf("downwardAPI item %s: %w", it.Path, err)
		}
		out[it.Path] = volumeFile{data: []byte(v), mode: fileMode(it.Mode, dflt)}
	}
	return nil
}

// writeAtomic makes dir hold exactly files, swapping the whole set at once;
// changed is false when it already did.
func writeAtomic(dir string, files map[string]volumeFile, now time.Time) (changed bool, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}
	old, err := os.Readlink(filepath.Join(dir, dataLink))
	if err == nil && sameFiles(filepath.Join(dir, old), files) {
		return false, nil
	}
	ts, err := os.MkdirTemp(dir, now.UTC().Format("..2006_01_02_15_04_05."))
	if err != nil {
		return false, err
	}
	if err := os.Chmod(ts, 0o755); err != nil {
		return false, err
	}
	tops := map[string]bool{}
	for p, f := range files {
		full := filepath.Join(ts, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return false, err
		}
		if err := os.WriteFile(full, f.data, f.mode); err != nil {
			return false, err
		}
		if err := os.Chmod(full, f.mode); err != nil { // WriteFile's mode is cut by umask
			return false, err
		}
		top, _, _ := strings.Cut(filepath.ToSlash(filepath.Clean(p)), "/")
		tops[top] = true
	}
	tmp := filepath.Join(dir, "..data_tmp")
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if err := os.Symlink(filepath.Base(ts), tmp); err != nil {
		return false, err
	}
	if err := os.Rename(tmp, filepath.Join(dir, dataLink)); err != nil {
		return false, err
	}
	for top := range tops {
		link, want := filepath.Join(dir, top), filepath.Join(dataLink, top)
		if got, err := os.Readlink(link); err == nil && got == want {
			continue
		}
		if err := os.RemoveAll(link); err != nil {
			return true, err
		}
		if err := os.Symlink(want, link); err != nil {
			return true, err
		}
	}
	// What the new set no longer names goes, with the old directories.
	entries, err := os.ReadDir(dir)
	if err != nil {
		return true, err
	}
	for _, e := range entries {
		n := e.Name()
		stale := !strings.HasPrefix(n, "..") && !tops[n]
		oldDir := strings.HasPrefix(n, "..") && n != dataLink && n != filepath.Base(ts)
		if stale || oldDir {
			if err := os.RemoveAll(filepath.Join(dir, n)); err != nil {
				return true, err
			}
		}
	}
	return true, nil
}

// sameFiles tells whether dir holds exactly files, with their modes.
func sameFiles(dir string, files map[string]volumeFile) bool {
	files = normalised(files)
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		f, ok := files[rel]
		if !ok {
			return fs.ErrNotExist
		}
		info, err := d.Info()
		if err != nil || info.Mode().Perm() != f.mode.Perm() {
			return fs.ErrInvalid
		}
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(b, f.data) {
			return fs.ErrInvalid
		}
		n++
		return nil
	})
	return err == nil && n == len(files)
}

// normalised keys files by their cleaned path, as they are on disk.
func normalised(files map[string]volumeFile) map[string]volumeFile {
	out := make(map[string]volumeFile, len(files))
	for p, f := range files {
		out[filepath.Clean(p)] = f
	}
	return out
}

// ensureDataVolume writes a data volume's files. When its objects cannot
// be read, a volume written before keeps its files (the containers go on
// with them, as with the kubelet) and the reason is an event; a volume
// never written fails the sync, so the containers wait for it.
func (r *Runtime) ensureDataVolume(ctx context.Context, objs *objectCache, pod *api.Pod, v *api.Volume) error {
	dir := r.emptyDirPath(string(pod.ObjectMeta.UID), v.Name)
	files, err := dataVolumeFiles(ctx, objs, pod, v)
	if err != nil {
		if _, lerr := os.Readlink(filepath.Join(dir, dataLink)); lerr == nil {
			msg := fmt.Sprintf("volume %s keeps its files: %v", v.Name, err)
			r.eventOnce(pod, "FailedUpdate/"+msg, EventWarning, "FailedMount", msg)
			return nil
		}
		return err
	}
	if v.Secret != nil || v.Projected != nil {
		// Secrets stay off the node's disk, as with the kubelet.
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := mountTmpfs(dir, &api.EmptyDirVolumeSource{}); err != nil {
			return err
		}
	}
	changed, err := writeAtomic(dir, files, r.now())
	if err != nil {
		return fmt.Errorf("write files: %w", err)
	}
	if changed {
		r.log.Info("volume files written", "pod", pod.ObjectMeta.UID, "volume", v.Name, "files", len(files))
	}
	return nil
}
