package podruntime

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/shoal-dev/shoal/api"
)

func nsInode(t *testing.T, path string) string {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	return fmt.Sprint(st.Ino)
}

func TestPodContainersShareHostnameIPCAndLocalhost(t *testing.T) {
	r := newTestRuntime(t)
	netns := newNetns(t)
	// Each container prints its namespaces; the client fetches the web
	// page over localhost, proving the two share one network namespace.
	nsLine := `echo "ns ipc=$(readlink /proc/self/ns/ipc) uts=$(readlink /proc/self/ns/uts) net=$(readlink /proc/self/ns/net) host=$(hostname)"`
	pod := newPod(t, "web-pair", api.RestartNever,
		shell("web", imageV1, nsLine+"; exec httpd -f -p 8080 -h /www"),
		shell("client", imageV1, nsLine+`; for i in $(seq 1 100); do wget -q -O - http://localhost:8080/ && exit 0; sleep 0.1; done; exit 1`),
	)
	st := syncUntil(t, r, pod, netns, "client done, web running", func(st api.PodStatus) bool {
		return terminated(st, "client") != nil && running(st, "web")
	})
	if code := terminated(st, "client").ExitCode; code != 0 {
		t.Errorf("client exit code %d, want 0 (it could not reach web over localhost)", code)
	}
	if st.Phase != api.PodRunning {
		t.Errorf("phase %s, want Running while web runs", st.Phase)
	}
	clientLog := waitLog(t, r.LogPath(string(pod.ObjectMeta.UID), "client"), "hello from shoal")
	webLog := waitLog(t, r.LogPath(string(pod.ObjectMeta.UID), "web"), "ns ")
	nsOf := func(log string) string {
		for _, l := range strings.Split(log, "\n") {
			if strings.HasPrefix(l, "ns ") {
				return l
			}
		}
		return ""
	}
	want := fmt.Sprintf("ns ipc=ipc:[%s] uts=uts:[%s] net=net:[%s] host=web-pair",
		nsInode(t, r.sandboxNSPath(string(pod.ObjectMeta.UID), "ipc")),
		nsInode(t, r.sandboxNSPath(string(pod.ObjectMeta.UID), "uts")),
		nsInode(t, netns))
	if got := nsOf(webLog); got != want {
		t.Errorf("web namespaces:\n got %s\nwant %s", got, want)
	}
	if got := nsOf(clientLog); got != want {
		t.Errorf("client namespaces:\n got %s\nwant %s", got, want)
	}
	if _, err := os.Stat(r.sandboxDir(string(pod.ObjectMeta.UID))); err != nil {
		t.Errorf("sandbox dir: %v", err)
	}
}
