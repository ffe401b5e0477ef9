package podruntime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/errdefs"
)

// ErrNotRunning says a container has no running process to exec into.
var ErrNotRunning = errors.New("container is not running")

// ErrNoContainer says the pod has no container by that name on this node.
var ErrNoContainer = errors.New("no such container")

// TermSize is a terminal's size in characters.
type TermSize struct {
	Width, Height uint16
}

// ExecOptions describes a process to run in a running container.
type ExecOptions struct {
	Command []string
	Stdin   io.Reader // nil: the process gets no stdin
	Stdout  io.Writer
	Stderr  io.Writer // ignored with TTY: a terminal has one output
	TTY     bool
	Resize  <-chan TermSize // terminal size changes, with TTY
}

// Exec runs a command in a running container of a pod, in all of its
// namespaces and with its environment, and returns the command's exit
// code once it exited and its output was written. Cancelling ctx kills the
// command.
func (r *Runtime) Exec(ctx context.Context, podUID, container string, opts ExecOptions) (int, error) {
	if len(opts.Command) == 0 {
		return 0, errors.New("exec: no command")
	}
	ctx = r.withNS(ctx)
	cont, err := r.client.LoadContainer(ctx, containerID(podUID, container))
	if errdefs.IsNotFound(err) {
		return 0, fmt.Errorf("exec in container %s of pod %s: %w", container, podUID, ErrNoContainer)
	}
	if err != nil {
		return 0, fmt.Errorf("exec in container %s of pod %s: %w", container, podUID, err)
	}
	task, err := cont.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		return 0, fmt.Errorf("exec in container %s of pod %s: %w", container, podUID, ErrNotRunning)
	}
	if err != nil {
		return 0, fmt.Errorf("exec in container %s of pod %s: %w", container, podUID, err)
	}
	if st, err := task.Status(ctx); err != nil || st.Status != containerd.Running {
		return 0, fmt.Errorf("exec in container %s of pod %s: %w", container, podUID, ErrNotRunning)
	}
	spec, err := cont.Spec(ctx)
	if err != nil {
		return 0, fmt.Errorf("exec in container %s: read spec: %w", container, err)
	}
	proc := *spec.Process
	proc.Args = opts.Command
	proc.Terminal = opts.TTY
	proc.Env = append([]string{}, proc.Env...)
	if opts.TTY {
		proc.Env = append(proc.Env, "TERM=xterm")
	}

	// The shim cannot run a non-terminal exec with an output left unset.
	stdout, stderr := opts.Stdout, opts.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	// The shim holds the stdin fifo open itself: the process sees the end
	// of its input only when told, once the caller's stdin ended. Not with
	// a terminal: closing it hangs the process up, and a terminal's end of
	// input is a ^D the user types, not the end of the stream.
	var stdin io.Reader = opts.Stdin
	stdinDone := make(chan struct{})
	if opts.Stdin != nil && !opts.TTY {
		stdin = &eofSignal{r: opts.Stdin, done: stdinDone}
	}
	streams := []cio.Opt{cio.WithStreams(stdin, stdout, stderr)}
	if opts.TTY {
		streams = []cio.Opt{cio.WithStreams(stdin, stdout, nil), cio.WithTerminal}
	}
	execID := "exec-" + randomHex(6)
	p, err := task.Exec(ctx, execID, &proc, cio.NewCreator(streams...))
	if err != nil {
		return 0, fmt.Errorf("exec in container %s: %w", container, err)
	}
	// Deleting must happen even when the caller went away, or the shim
	// keeps the exec's state.
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := p.Delete(dctx, containerd.WithProcessKill); err != nil && !errdefs.IsNotFound(err) {
			r.log.Warn("delete exec process", "container", cont.ID(), "exec", execID, "err", err)
		}
	}()
	exited, err := p.Wait(ctx)
	if err != nil {
		return 0, fmt.Errorf("exec in container %s: wait: %w", container, err)
	}
	if err := p.Start(ctx); err != nil {
		return 0, fmt.Errorf("exec in container %s: start: %w", container, err)
	}
	r.log.Debug("exec started", "container", cont.ID(), "exec", execID, "command", opts.Command)

	for {
		select {
		case <-stdinDone:
			stdinDone = nil
			if err := p.CloseIO(ctx, containerd.WithStdinCloser); err != nil {
				r.log.Debug("close exec stdin", "err", err)
			}
		case sz, ok := <-opts.Resize:
			if !ok {
				opts.Resize = nil
				continue
			}
			if opts.TTY {
				if err := p.Resize(ctx, uint32(sz.Width), uint32(sz.Height)); err != nil {
					r.log.Debug("resize exec terminal", "err", err)
				}
			}
		case st := <-exited:
			// The exit comes before the last output is copied out.
			p.IO().Wait()
			code, _, err := st.Result()
			if err != nil {
				return 0, fmt.Errorf("exec in container %s: %w", container, err)
			}
			return int(code), nil
		case <-ctx.Done():
			kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			_ = p.Kill(kctx, syscall.SIGKILL)
			cancel()
			return 0, fmt.Errorf("exec in container %s: %w", container, ctx.Err())
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// eofSignal closes done when its reader reached the end.
type eofSignal struct {
	r    io.Reader
	done chan struct{}
	once sync.Once
}

func (e *eofSignal) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil {
		e.once.Do(func() { close(e.done) })
	}
	return n, err
}
