package podruntime

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
	"golang.org/x/sys/unix"

	"github.com/shoal-dev/shoal/api"
)

// check runs one probe once, bounded by its timeout, and says whether it
// passed and, if not, why.
func (r *Runtime) check(ctx context.Context, kind string, pr *api.Probe, t probeTarget) (bool, string) {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(pr.TimeoutSeconds)*time.Second)
	defer cancel()
	switch {
	case pr.Exec != nil:
		code, err := r.execProbe(ctx, kind, t.containerID, pr.Exec.Command)
		if err != nil {
			return false, err.Error()
		}
		if code != 0 {
			return false, fmt.Sprintf("command %q exited with %d", pr.Exec.Command, code)
		}
		return true, ""
	case pr.HTTPGet != nil:
		return httpProbe(ctx, pr.HTTPGet, t)
	case pr.TCPSocket != nil:
		addr, err := probeAddr(pr.TCPSocket.Port, t)
		if err != nil {
			return false, err.Error()
		}
		conn, err := dialInNetns(ctx, t.netnsPath, addr)
		if err != nil {
			return false, fmt.Sprintf("dial tcp %s: %v", addr, err)
		}
		conn.Close()
		return true, ""
	}
	return false, "probe has no handler"
}

// probeAddr is host:port of a network probe: the pod's own IP, as the
// kubelet uses, and the port by number or by the container port's name.
func probeAddr(port api.IntOrString, t probeTarget) (string, error) {
	if t.host == "" || t.netnsPath == "" {
		return "", errors.New("the pod has no network address yet")
	}
	n, ok := api.ResolvePort(port, &t.container)
	if !ok {
		return "", fmt.Errorf("port %s: no such port in the container", port.String())
	}
	return net.JoinHostPort(t.host, strconv.Itoa(int(n))), nil
}

func httpProbe(ctx context.Context, h *api.HTTPGetAction, t probeTarget) (bool, string) {
	addr, err := probeAddr(h.Port, t)
	if err != nil {
		return false, err.Error()
	}
	scheme := "http"
	if h.Scheme == "HTTPS" {
		scheme = "https"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+addr+h.Path, nil)
	if err != nil {
		return false, err.Error()
	}
	req.Header.Set("User-Agent", "shoal-probe/1.0")
	for _, hd := range h.HTTPHeaders {
		if http.CanonicalHeaderKey(hd.Name) == "Host" {
			req.Host = hd.Value
			continue
		}
		req.Header.Add(hd.Name, hd.Value)
	}
	client := &http.Client{
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
				return dialInNetns(ctx, t.netnsPath, addr)
			},
			DisableKeepAlives: true,
			// As the kubelet: an HTTPS probe checks that the pod answers,
			// not who signed its certificate.
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec
		},
		// A redirect is an answer: 3xx counts as success, as in Kubernetes,
		// and the probe never follows it anywhere but the pod.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, fmt.Sprintf("HTTP probe failed: %v", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 10<<10))
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return false, fmt.Sprintf("HTTP probe failed with statuscode: %d", resp.StatusCode)
	}
	return true, ""
}

// dialInNetns opens a TCP connection from inside the pod's network
// namespace, so a probe reaches the pod at its own IP whatever the node's
// routes are, and never reaches anything outside the pod. The socket is
// made on an OS thread switched into the namespace; it stays in that
// namespace after the thread returns to its own.
func dialInNetns(ctx context.Context, nsPath, addr string) (net.Conn, error) {
	type result struct {
		conn net.Conn
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		conn, back, err := dialOnThread(ctx, nsPath, addr)
		if back {
			runtime.UnlockOSThread()
		} // else: the thread stays locked and dies with this goroutine
		ch <- result{conn, err}
	}()
	res := <-ch
	return res.conn, res.err
}

// dialOnThread must run on a locked OS thread; back reports whether the
// thread is in its own namespace again.
func dialOnThread(ctx context.Context, nsPath, addr string) (net.Conn, bool, error) {
	own, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return nil, true, fmt.Errorf("open own network namespace: %w", err)
	}
	defer own.Close()
	target, err := os.Open(nsPath)
	if err != nil {
		return nil, true, fmt.Errorf("open pod network namespace: %w", err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return nil, true, fmt.Errorf("enter pod network namespace: %w", err)
	}
	var d net.Dialer
	conn, dialErr := d.DialContext(ctx, "tcp", addr)
	if err := unix.Setns(int(own.Fd()), unix.CLONE_NEWNET); err != nil {
		if conn != nil {
			conn.Close()
		}
		return nil, false, fmt.Errorf("return from pod network namespace: %w", err)
	}
	return conn, true, dialErr
}

// execProbe runs a command in the container's running task through
// containerd, with the container's own process settings, and returns its
// exit code; its output is dropped.
func (r *Runtime) execProbe(ctx context.Context, kind, containerID string, command []string) (int, error) {
	ctx = r.withNS(ctx)
	cont, err := r.client.LoadContainer(ctx, containerID)
	if err != nil {
		return 0, fmt.Errorf("load container: %w", err)
	}
	spec, err := cont.Spec(ctx)
	if err != nil {
		return 0, fmt.Errorf("spec of container: %w", err)
	}
	task, err := cont.Task(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("container is not running: %w", err)
	}
	pspec := *spec.Process
	pspec.Args = command
	pspec.Terminal = false
	proc, err := task.Exec(ctx, r.probes.nextExecID(kind), &pspec, cio.NullIO)
	if err != nil {
		return 0, fmt.Errorf("exec: %w", err)
	}
	defer func() {
		// ctx may be over (the timeout): clean up with a context of its own.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_, _ = proc.Delete(dctx, containerd.WithProcessKill)
	}()
	exited, err := proc.Wait(ctx)
	if err != nil {
		return 0, fmt.Errorf("wait for exec: %w", err)
	}
	if err := proc.Start(ctx); err != nil {
		return 0, fmt.Errorf("start exec: %w", err)
	}
	select {
	case st := <-exited:
		code, _, err := st.Result()
		if err != nil {
			return 0, fmt.Errorf("exec result: %w", err)
		}
		return int(code), nil
	case <-ctx.Done():
		return 0, fmt.Errorf("command %q timed out", command)
	}
}
