package podruntime

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/shoal-dev/shoal/api"
)

// ReasonCreateContainerConfigError is the waiting reason of a container
// whose environment cannot be built (a ConfigMap, Secret or key it needs
// is missing), as the kubelet reports it.
const ReasonCreateContainerConfigError = "CreateContainerConfigError"

// ObjectSource reads the ConfigMaps and Secrets a pod consumes, as the
// fleet holds them now. Both return nil and no error when the object does
// not exist; an error means it could not be read.
type ObjectSource interface {
	ConfigMap(ctx context.Context, namespace, name string) (*api.ConfigMap, error)
	Secret(ctx context.Context, namespace, name string) (*api.Secret, error)
}

// errNoObjects is what a pod that consumes ConfigMaps or Secrets gets on a
// runtime built without an ObjectSource.
var errNoObjects = errors.New("this node has no source of ConfigMaps and Secrets")

// objectCache reads each ConfigMap and Secret once per use (one container's
// environment, one sync of a pod's volumes), so every key of it comes from
// the same version.
type objectCache struct {
	src        ObjectSource
	ns         string
	configMaps map[string]*api.ConfigMap
	secrets    map[string]*api.Secret
}

func newObjectCache(src ObjectSource, ns string) *objectCache {
	return &objectCache{src: src, ns: ns, configMaps: map[string]*api.ConfigMap{}, secrets: map[string]*api.Secret{}}
}

// configMap returns the ConfigMap, nil when it does not exist.
func (o *objectCache) configMap(ctx context.Context, name string) (*api.ConfigMap, error) {
	if cm, ok := o.configMaps[name]; ok {
		return cm, nil
	}
	if o.src == nil {
		return nil, errNoObjects
	}
	cm, err := o.src.ConfigMap(ctx, o.ns, name)
	if err != nil {
		return nil, fmt.Errorf("read configmap %q: %w", name, err)
	}
	o.configMaps[name] = cm
	return cm, nil
}

// secret returns the Secret, nil when it does not exist.
func (o *objectCache) secret(ctx context.Context, name string) (*api.Secret, error) {
	if s, ok := o.secrets[name]; ok {
		return s, nil
	}
	if o.src == nil {
		return nil, errNoObjects
	}
	s, err := o.src.Secret(ctx, o.ns, name)
	if err != nil {
		return nil, fmt.Errorf("read secret %q: %w", name, err)
	}
	o.secrets[name] = s
	return s, nil
}

// configMapData is a ConfigMap's data and binaryData as bytes.
func configMapData(cm *api.ConfigMap) map[string][]byte {
	out := make(map[string][]byte, len(cm.Data)+len(cm.BinaryData))
	for k, v := range cm.Data {
		out[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		out[k] = v
	}
	return out
}

// containerEnv builds a container's environment as the kubelet does when
// it creates the container: envFrom in order, then env, a later name
// replacing an earlier one, with $(NAME) in a value expanded from the
// variables before it. A missing ConfigMap, Secret or key that is not
// optional is an error naming it; keys of envFrom that are not valid
// variable names are skipped and named in skipped.
func containerEnv(ctx context.Context, objs *objectCache, pod *api.Pod, c api.Container) (env []string, skipped []string, err error) {
	var names []string
	values := map[string]string{}
	set := func(k, v string) {
		if _, ok := values[k]; !ok {
			names = append(names, k)
		}
		values[k] = v
	}
	for _, f := range c.EnvFrom {
		var (
			data     map[string][]byte
			optional bool
		)
		switch {
		case f.ConfigMapRef != nil:
			optional = f.ConfigMapRef.Optional != nil && *f.ConfigMapRef.Optional
			cm, err := objs.configMap(ctx, f.ConfigMapRef.Name)
			if err != nil {
				return nil, nil, err
			}
			if cm == nil {
				if optional {
					continue
				}
				return nil, nil, fmt.Errorf("configmap %q not found", f.ConfigMapRef.Name)
			}
			data = configMapData(cm)
		case f.SecretRef != nil:
			optional = f.SecretRef.Optional != nil && *f.SecretRef.Optional
			s, err := objs.secret(ctx, f.SecretRef.Name)
			if err != nil {
				return nil, nil, err
			}
			if s == nil {
				if optional {
					continue
				}
				return nil, nil, fmt.Errorf("secret %q not found", f.SecretRef.Name)
			}
			data = s.Data
		}
		for _, k := range sortedKeys(data) {
			name := f.Prefix + k
			if len(validation.IsEnvVarName(name)) > 0 {
				skipped = append(skipped, name)
				continue
			}
			set(name, string(data[k]))
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			// $(NAME) of a variable defined before this one is expanded
			// (env_expand.go).
			set(e.Name, expandVars(e.Value, values))
			continue
		}
		v, ok, err := envValue(ctx, objs, pod, c, e.ValueFrom)
		if err != nil {
			return nil, nil, fmt.Errorf("env %s: %w", e.Name, err)
		}
		if ok {
			set(e.Name, v)
		}
	}
	env = make([]string, 0, len(names))
	for _, k := range names {
		env = append(env, k+"="+values[k])
	}
	return env, skipped, nil
}

// envValue resolves one valueFrom; ok is false for an optional key that
// is missing (the variable is left out, as the kubelet does).
func envValue(ctx context.Context, objs *objectCache, pod *api.Pod, c api.Container, s *api.EnvVarSource) (string, bool, error) {
	switch {
	case s.ConfigMapKeyRef != nil:
		r := s.ConfigMapKeyRef
		optional := r.Optional != nil && *r.Optional
		cm, err := objs.configMap(ctx, r.Name)
		if err != nil {
			return "", false, err
		}
		if cm == nil {
			if optional {
				return "", false, nil
			}
			return "", false, fmt.Errorf("configmap %q not found", r.Name)
		}
		v, ok := configMapData(cm)[r.Key]
		if !ok {
			if optional {
				return "", false, nil
			}
			return "", false, fmt.Errorf("couldn't find key %s in ConfigMap %s/%s", r.Key, pod.ObjectMeta.Namespace, r.Name)
		}
		return string(v), true, nil
	case s.SecretKeyRef != nil:
		r := s.SecretKeyRef
		optional := r.Optional != nil && *r.Optional
		sec, err := objs.secret(ctx, r.Name)
		if err != nil {
			return "", false, err
		}
		if sec == nil {
			if optional {
				return "", false, nil
			}
			return "", false, fmt.Errorf("secret %q not found", r.Name)
		}
		v, ok := sec.Data[r.Key]
		if !ok {
			if optional {
				return "", false, nil
			}
			return "", false, fmt.Errorf("couldn't find key %s in Secret %s/%s", r.Key, pod.ObjectMeta.Namespace, r.Name)
		}
		return string(v), true, nil
	case s.FieldRef != nil:
		v, err := podFieldValue(pod, s.FieldRef.FieldPath)
		return v, err == nil, err
	case s.ResourceFieldRef != nil:
		v, err := containerResourceValue(c, s.ResourceFieldRef)
		return v, err == nil, err
	}
	return "", false, errors.New("valueFrom has no source")
}

// podFieldValue is a pod field as the downward API gives it, for env and
// for downwardAPI volumes. Labels and annotations as a whole (volumes
// only) are KEY="VALUE" lines, sorted.
func podFieldValue(pod *api.Pod, path string) (string, error) {
	if field, key, ok := api.SplitFieldSubscript(path); ok {
		if field == "metadata.labels" {
			return pod.ObjectMeta.Labels[key], nil
		}
		return pod.ObjectMeta.Annotations[key], nil
	}
	switch path {
	case "metadata.name":
		return pod.ObjectMeta.Name, nil
	case "metadata.namespace":
		return pod.ObjectMeta.Namespace, nil
	case "metadata.uid":
		return string(pod.ObjectMeta.UID), nil
	case "metadata.labels":
		return formatMap(pod.ObjectMeta.Labels), nil
	case "metadata.annotations":
		return formatMap(pod.ObjectMeta.Annotations), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "status.podIP":
		return pod.Status.PodIP, nil
	case "status.podIPs":
		ips := make([]string, 0, len(pod.Status.PodIPs))
		for _, ip := range pod.Status.PodIPs {
			ips = append(ips, ip.IP)
		}
		return strings.Join(ips, ","), nil
	case "status.hostIP", "status.hostIPs":
		return pod.Status.HostIP, nil
	}
	return "", fmt.Errorf("unsupported fieldPath %q", path)
}

// formatMap writes labels or annotations as the kubelet's downward API
// does: one KEY="VALUE" a line, sorted, values quoted as Go strings.
func formatMap(m map[string]string) string {
	var b strings.Builder
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(k + "=" + strconv.Quote(m[k]))
	}
	return b.String()
}

// containerResourceValue is a container's limit or request in units of
// the divisor, rounded up, as the kubelet gives it. Validation has made
// sure a limit asked for is set.
func containerResourceValue(c api.Container, r *api.ResourceFieldSelector) (string, error) {
	kind, name, _ := strings.Cut(r.Resource, ".")
	list := c.Resources.Requests
	if kind == "limits" {
		list = c.Resources.Limits
	}
	q := list[api.ResourceName(name)]
	divisor := r.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	if name == string(api.ResourceCPU) {
		v := int64(math.Ceil(float64(q.MilliValue()) / float64(divisor.MilliValue())))
		return strconv.FormatInt(v, 10), nil
	}
	return strconv.FormatInt(int64(math.Ceil(float64(q.Value())/float64(divisor.Value()))), 10), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// resolveEnv builds a container's environment before it is created; when
// it cannot, the container waits with CreateContainerConfigError and the
// reason, and a later sync tries again (the ConfigMap may come).
func (r *Runtime) resolveEnv(ctx context.Context, pod *api.Pod, c api.Container) ([]string, bool) {
	key := pullKey(string(pod.ObjectMeta.UID), c.Name)
	env, skipped, err := containerEnv(ctx, newObjectCache(r.objects, pod.ObjectMeta.Namespace), pod, c)
	if err != nil {
		msg := err.Error()
		r.pulls.setWaiting(key, ReasonCreateContainerConfigError, msg)
		r.eventOnce(pod, "ConfigError/"+c.Name+"/"+msg, EventWarning, "Failed", "Error: "+msg)
		return nil, false
	}
	if len(skipped) > 0 {
		r.eventOnce(pod, "InvalidEnv/"+c.Name+"/"+strings.Join(skipped, ","), EventWarning, "InvalidEnvironmentVariableNames",
			fmt.Sprintf("Keys [%s] from envFrom of container %s were skipped since they are invalid environment variable names.", strings.Join(skipped, ", "), c.Name))
	}
	return r.withAPIEnv(env), true // serviceaccount.go
}
