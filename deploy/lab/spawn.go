package lab

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/shoal-dev/shoal/netplane/nsthread"
)

// startDetached starts argv as a daemon: its own session and process group
// (so a terminal's Ctrl-C or the CLI exiting does not reach it), stdin from
// /dev/null, stdout and stderr appended to logPath. With nsPath set it runs
// in that network namespace. It returns the pid; the caller owns stopping it.
func startDetached(nsPath string, argv []string, logPath string) (int, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, fmt.Errorf("open log %s: %w", logPath, err)
	}
	defer logf.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	defer devnull.Close()

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin = devnull
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	start := cmd.Start
	if nsPath != "" {
		start = func() error { return nsthread.Run(nsPath, cmd.Start) }
	}
	if err := start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", argv[0], err)
	}
	pid := cmd.Process.Pid
	// Reap it if it exits while this process lives (tests, a long Up); the
	// daemon is otherwise independent of us.
	go func() { _ = cmd.Wait() }()
	return pid, nil
}
