package podruntime

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/shoal-dev/shoal/api"
)

// A pod's access to the API, as the kubelet gives it: the ServiceAccount
// token, the fleet's CA and the namespace at
// /var/run/secrets/kubernetes.io/serviceaccount in every container
// (unless automountServiceAccountToken says no, or a container mounts
// something else there), and KUBERNETES_SERVICE_HOST/PORT in every
// container's environment. The files are written as the projected volumes
// are (volumes_data.go: tmpfs, atomic swap at every sync); the token is
// bound to the pod and requested again once 80% of its life has passed,
// as the kubelet rotates it. Kubernetes' admission adds the same as a
// kube-api-access-* projected volume in the pod's spec; shoal adds it on
// the node and leaves the spec as written.

// ServiceAccountMountPath is where the token, ca.crt and namespace are.
const ServiceAccountMountPath = "/var/run/secrets/kubernetes.io/serviceaccount"

// saVolume is the directory of those files under the pod's volumes; not
// a valid volume name, so no volume of the pod's can take it.
const saVolume = "kubernetes.io~serviceaccount"

// saTokenSeconds is the lifetime the node asks for (the kubelet's 3607).
const saTokenSeconds = 3607

// TokenSource gives the node what pods need to reach the API.
type TokenSource interface {
	// ServiceAccount returns the ServiceAccount, nil when it does not
	// exist.
	ServiceAccount(ctx context.Context, namespace, name string) (*api.ServiceAccount, error)
	// ServiceAccountToken requests a token of the ServiceAccount bound to
	// the pod, valid for about seconds.
	ServiceAccountToken(ctx context.Context, namespace, name, pod string, podUID api.UID, seconds int64) (token string, expiry time.Time, err error)
}

// APIAccess is what the node tells pods about the API.
type APIAccess struct {
	// Tokens requests tokens and reads ServiceAccounts; nil mounts none.
	Tokens TokenSource
	// ServiceHost and ServicePort are the `kubernetes` Service's address,
	// given as KUBERNETES_SERVICE_HOST and _PORT; "" sets no variables.
	ServiceHost string
	ServicePort int
	// RootCA is the PEM of the fleet's CA, written as ca.crt; nil (an
	// API served over plain HTTP) writes no ca.crt.
	RootCA []byte
}

// saTokens caches each pod's token until it is due for rotation.
type saTokens struct {
	mu     sync.Mutex
	tokens map[string]saToken
}

type saToken struct {
	token          string
	issued, expiry time.Time
}

// due tells whether t must be replaced at now: 80% of its life gone.
func (t saToken) due(now time.Time) bool {
	return t.token == "" || now.After(t.issued.Add(t.expiry.Sub(t.issued)*8/10))
}

// apiEnv is the environment every container gets ahead of its own.
func (a *APIAccess) apiEnv() []string {
	if a == nil || a.ServiceHost == "" {
		return nil
	}
	port := strconv.Itoa(a.ServicePort)
	hp := net.JoinHostPort(a.ServiceHost, port)
	return []string{
		"KUBERNETES_SERVICE_HOST=" + a.ServiceHost,
		"KUBERNETES_SERVICE_PORT=" + port,
		"KUBERNETES_SERVICE_PORT_HTTPS=" + port,
		"KUBERNETES_PORT=tcp://" + hp,
		"KUBERNETES_PORT_" + port + "_TCP=tcp://" + hp,
		"KUBERNETES_PORT_" + port + "_TCP_PROTO=tcp",
		"KUBERNETES_PORT_" + port + "_TCP_PORT=" + port,
		"KUBERNETES_PORT_" + port + "_TCP_ADDR=" + a.ServiceHost,
	}
}

// withAPIEnv puts the API's variables ahead of env, which overrides them.
func (r *Runtime) withAPIEnv(env []string) []string {
	base := r.api.apiEnv()
	if len(base) == 0 {
		return env
	}
	return append(base, env...)
}

// ensureServiceAccountVolume writes the pod's token, ca.crt and namespace
// when the pod is to have them; a pod that is not removes what an earlier
// sync wrote.
func (r *Runtime) ensureServiceAccountVolume(ctx context.Context, pod *api.Pod) error {
	if r.api == nil || r.api.Tokens == nil {
		return nil
	}
	dir := r.emptyDirPath(string(pod.ObjectMeta.UID), saVolume)
	mount, err := r.automount(ctx, pod)
	if err != nil {
		// A pod that has its files already keeps them, as it keeps an
		// old token below: an agent restarted while cut off from the
		// fleet reads a state that may not hold the ServiceAccount yet,
		// and the kubelet does not look at a running pod's
		// ServiceAccount again either.
		return r.keepOldToken(pod, dir, err)
	}
	if !mount {
		return nil
	}
	tok, err := r.podToken(ctx, pod)
	if err != nil {
		if err := r.keepOldToken(pod, dir, err); err != nil {
			return fmt.Errorf("service account token: %w", err)
		}
		return nil
	}
	files := map[string]volumeFile{
		"token":     {data: []byte(tok), mode: 0o644},
		"namespace": {data: []byte(pod.ObjectMeta.Namespace), mode: 0o644},
	}
	if len(r.api.RootCA) > 0 {
		files["ca.crt"] = volumeFile{data: r.api.RootCA, mode: 0o644}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := mountTmpfs(dir, &api.EmptyDirVolumeSource{}); err != nil {
		return err
	}
	if _, err := writeAtomic(dir, files, r.now()); err != nil {
		return fmt.Errorf("service account files: %w", err)
	}
	return nil
}

// keepOldToken answers nil, with a warning event, when the pod's token
// files are already in dir (it keeps them), else err.
func (r *Runtime) keepOldToken(pod *api.Pod, dir string, err error) error {
	if _, lerr := os.Readlink(filepath.Join(dir, dataLink)); lerr != nil {
		return err
	}
	msg := "the ServiceAccount token keeps its old value: " + err.Error()
	r.eventOnce(pod, "FailedToken/"+msg, EventWarning, "FailedMount", msg)
	return nil
}

// automount decides as Kubernetes does: the pod's field, else its
// ServiceAccount's, else yes. A missing ServiceAccount is an error: the
// containers wait for it (the leader makes `default` right after its
// namespace).
func (r *Runtime) automount(ctx context.Context, pod *api.Pod) (bool, error) {
	if b := pod.Spec.AutomountServiceAccountToken; b != nil {
		return *b, nil
	}
	name := api.PodServiceAccount(&pod.Spec)
	sa, err := r.api.Tokens.ServiceAccount(ctx, pod.ObjectMeta.Namespace, name)
	if err != nil {
		return false, fmt.Errorf("read serviceaccount %q: %w", name, err)
	}
	if sa == nil {
		return false, fmt.Errorf("serviceaccount %q not found", name)
	}
	return api.AutomountToken(&pod.Spec, sa), nil
}

// podToken is the pod's current token, requested anew when due.
func (r *Runtime) podToken(ctx context.Context, pod *api.Pod) (string, error) {
	uid := pod.ObjectMeta.UID
	now := r.now()
	r.saTokens.mu.Lock()
	cur := r.saTokens.tokens[string(uid)]
	r.saTokens.mu.Unlock()
	if !cur.due(now) {
		return cur.token, nil
	}
	tok, exp, err := r.api.Tokens.ServiceAccountToken(ctx, pod.ObjectMeta.Namespace, api.PodServiceAccount(&pod.Spec), pod.ObjectMeta.Name, uid, saTokenSeconds)
	if err != nil {
		return "", err
	}
	r.saTokens.mu.Lock()
	r.saTokens.tokens[string(uid)] = saToken{token: tok, issued: now, expiry: exp}
	r.saTokens.mu.Unlock()
	return tok, nil
}

// forgetToken drops a removed pod's token.
func (r *Runtime) forgetToken(uid string) {
	r.saTokens.mu.Lock()
	delete(r.saTokens.tokens, uid)
	r.saTokens.mu.Unlock()
}

// serviceAccountMount is the container's mount of the pod's token
// directory, when the node wrote one and the container mounts nothing
// else at its path.
func (r *Runtime) serviceAccountMount(pod *api.Pod, c api.Container) []specs.Mount {
	for _, m := range c.VolumeMounts {
		if filepath.Clean(m.MountPath) == ServiceAccountMountPath {
			return nil
		}
	}
	dir := r.emptyDirPath(string(pod.ObjectMeta.UID), saVolume)
	if _, err := os.Readlink(filepath.Join(dir, dataLink)); err != nil {
		return nil
	}
	return []specs.Mount{{Destination: ServiceAccountMountPath, Type: "bind", Source: dir, Options: []string{"rbind", "ro"}}}
}
