package nsthread

import (
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// onMainThread runs functions on the process's main OS thread: init locks
// the main goroutine to it and TestMain serves them there while the tests
// run on other goroutines.
var onMainThread = make(chan func())

func init() { runtime.LockOSThread() }

func TestMain(m *testing.M) {
	done := make(chan int)
	go func() { done <- m.Run() }()
	for {
		select {
		case f := <-onMainThread:
			f()
		case code := <-done:
			os.Exit(code)
		}
	}
}

// Work that changes a thread's namespaces must never stay on the main
// thread, even when the goroutine meant to run it is scheduled there.
func TestDoomedWorkNeverRunsOnTheMainThread(t *testing.T) {
	got := make(chan int, 1)
	errc := make(chan error, 1)
	onMainThread <- func() {
		if unix.Gettid() != unix.Getpid() {
			t.Error("TestMain is not on the main thread")
		}
		doomed(func() error { got <- unix.Gettid(); return nil }, errc)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if tid := <-got; tid == unix.Getpid() {
		t.Fatalf("the work ran on the main thread (tid %d)", tid)
	}
}
