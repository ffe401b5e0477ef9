package lab

import (
	"bufio"
	"os/exec"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// A process whose main thread has exited while another thread still runs
// shows as a zombie, yet holds its files and sockets: it is alive until
// the last thread is gone, or an agent restarted at once finds its port
// taken.
func TestAliveCountsAZombieLeaderWithLiveThreads(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the helper calls SYS_exit by its amd64 number")
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("needs python3 to exit one thread alone")
	}
	cmd := exec.Command(py, "-c", `
import ctypes, threading, time, sys
threading.Thread(target=lambda: time.sleep(3)).start()
sys.stdout.write("ready\n"); sys.stdout.flush()
ctypes.CDLL(None).syscall(60, 0)
`)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	deadline := time.Now().Add(2 * time.Second)
	for !zombie(pid) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !zombie(pid) {
		t.Skip("main thread did not exit alone here")
	}
	if !alive(pid) {
		t.Fatal("alive says a zombie main thread with a live thread is gone")
	}
	_ = cmd.Wait()
	if alive(pid) {
		t.Fatal("alive after the last thread exited and was reaped")
	}
}

func zombie(pid int) bool {
	b, err := exec.Command("ps", "-o", "stat=", "-p", itoa(pid)).Output()
	return err == nil && len(b) > 0 && b[0] == 'Z'
}

func itoa(n int) string { return strconv.Itoa(n) }
