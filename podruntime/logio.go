package podruntime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/fifo"
)

// A task's stdout and stderr are FIFOs that this agent reads, as
// Kubernetes' CRI plugin does, so that each line of the log carries the
// time it was written (logformat.go). The FIFOs of one task live in
// fifos/CONTAINER-ID/RANDOM/ under the state dir; the shim holds their
// write ends for the life of the task, so after an agent restart the new
// agent opens them again (reattachLogs) and the log goes on. While no agent
// reads, the FIFO's buffer fills and the container's writes wait, as they
// do while containerd's CRI plugin restarts. Close writes the start of a
// line it holds as a P record; an agent killed outright loses that start
// (text after the last newline it read).
//
// Each task costs two goroutines blocked in the network poller on its
// FIFOs: nothing while the container is quiet.

func fifosDir(stateDir string) string { return filepath.Join(stateDir, "fifos") }

// logIO is the stdio of one task: its FIFOs and the two copiers that
// append them to the container's log. It is the cio.IO containerd's client
// keeps for the task.
type logIO struct {
	id     string // the container's
	config cio.Config
	dir    string // the task's FIFO directory
	pipes  []io.ReadCloser
	done   chan struct{}
	// detached: the runtime is closing; the task runs on and the FIFOs
	// stay for the next agent.
	detached atomic.Bool
}

func (l *logIO) Config() cio.Config { return l.config }

// Cancel does nothing: the FIFOs are open before containerd gets them.
func (l *logIO) Cancel() {}

// Wait returns once both streams ended (the task's shim closed them).
func (l *logIO) Wait() { <-l.done }

// Close stops copying and removes the FIFOs: containerd calls it when the
// task it was made for could not be created.
func (l *logIO) Close() error {
	l.closePipes()
	<-l.done
	return nil
}

func (l *logIO) closePipes() {
	for _, p := range l.pipes {
		_ = p.Close() // a second close (the copier's own) reports an error that says nothing
	}
}

// logIOs are the copiers a runtime runs.
type logIOs struct {
	mu  sync.Mutex
	set map[*logIO]struct{}
}

func (s *logIOs) add(l *logIO) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.set == nil {
		s.set = map[*logIO]struct{}{}
	}
	s.set[l] = struct{}{}
}

func (s *logIOs) remove(l *logIO) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.set, l)
}

// doneOf is closed when the copiers of the container's task end; nil
// when none runs here.
func (s *logIOs) doneOf(id string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	for l := range s.set {
		if l.id == id {
			return l.done
		}
	}
	return nil
}

// detachAll stops every copier without touching the FIFOs, for the next
// agent to read.
func (s *logIOs) detachAll() {
	s.mu.Lock()
	all := make([]*logIO, 0, len(s.set))
	for l := range s.set {
		all = append(all, l)
	}
	s.mu.Unlock()
	for _, l := range all {
		l.detached.Store(true)
		l.closePipes()
	}
	for _, l := range all {
		<-l.done
	}
}

// taskIO makes a new task's FIFOs and starts copying them into the
// container's log.
func (r *Runtime) taskIO(podUID, name string) cio.Creator {
	return func(id string) (cio.IO, error) {
		fifos, err := cio.NewFIFOSetInDir(filepath.Join(fifosDir(r.stateDir), id), id, false)
		if err != nil {
			return nil, fmt.Errorf("fifos of container %s: %w", id, err)
		}
		cfg := fifos.Config
		cfg.Stdin = "" // containers run without an open stdin
		dir := filepath.Dir(cfg.Stdout)
		var pipes []io.ReadCloser
		for _, path := range []string{cfg.Stdout, cfg.Stderr} {
			// The open completes when the shim opens the write end, while
			// the task is created; baseCtx ends a wait that Close cuts short.
			p, err := fifo.OpenFifo(r.baseCtx, path, syscall.O_RDONLY|syscall.O_CREAT|syscall.O_NONBLOCK, 0o700)
			if err != nil {
				for _, p := range pipes {
					p.Close()
				}
				return nil, errors.Join(fmt.Errorf("open fifo %s: %w", path, err), os.RemoveAll(dir))
			}
			pipes = append(pipes, p)
		}
		l, err := r.copyLogs(id, podUID, name, cfg, dir, pipes)
		if err != nil {
			return nil, errors.Join(err, os.RemoveAll(dir))
		}
		return l, nil
	}
}

// attachTaskIO opens the FIFOs of a task a previous agent started and
// goes on copying them. A task started before agents read their
// containers' output has its shim write the log file itself: nothing to
// attach.
func (r *Runtime) attachTaskIO(id, podUID, name string) cio.Attach {
	return func(fifos *cio.FIFOSet) (cio.IO, error) {
		cfg := fifos.Config
		root := fifosDir(r.stateDir) + string(filepath.Separator)
		if !strings.HasPrefix(cfg.Stdout, root) || !strings.HasPrefix(cfg.Stderr, root) {
			return nil, nil
		}
		var pipes []io.ReadCloser
		for _, path := range []string{cfg.Stdout, cfg.Stderr} {
			// Non-blocking: when the task has exited the shim holds no
			// write end; what it left in the FIFO is read, then EOF.
			p, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
			if err != nil {
				for _, p := range pipes {
					p.Close()
				}
				return nil, fmt.Errorf("open fifo %s: %w", path, err)
			}
			pipes = append(pipes, p)
		}
		l, err := r.copyLogs(id, podUID, name, cfg, filepath.Dir(cfg.Stdout), pipes)
		if err != nil {
			return nil, err
		}
		return l, nil
	}
}

// copyLogs appends the task's stdout and stderr to the container's log
// until both end; then it removes the task's FIFOs, unless the runtime is
// closing and the task runs on. The container's directory goes with the
// container (removeFIFOs).
func (r *Runtime) copyLogs(id, podUID, name string, cfg cio.Config, dir string, pipes []io.ReadCloser) (*logIO, error) {
	path := r.LogPath(podUID, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create log dir of pod %s: %w", podUID, err)
	}
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open log of container %s: %w", id, err)
	}
	l := &logIO{id: id, config: cfg, dir: dir, pipes: pipes, done: make(chan struct{})}
	r.logs.add(l)
	var left atomic.Int32
	left.Store(int32(len(pipes)))
	for i, stream := range []string{"stdout", "stderr"} {
		go func() {
			err := copyCRI(pipes[i], stream, file, r.now)
			if err != nil && !l.detached.Load() && !errors.Is(err, os.ErrClosed) && !errors.Is(err, fifo.ErrReadClosed) {
				r.log.Warn("copy container output to its log", "container", id, "stream", stream, "err", err)
			}
			if left.Add(-1) > 0 {
				return
			}
			l.closePipes()
			if err := file.Close(); err != nil {
				r.log.Warn("close container log", "container", id, "err", err)
			}
			if !l.detached.Load() {
				if err := os.RemoveAll(dir); err != nil {
					r.log.Warn("remove fifos", "container", id, "err", err)
				}
			}
			r.logs.remove(l)
			close(l.done)
		}()
	}
	return l, nil
}

// reattachLogs goes on copying the output of the tasks a previous agent
// started into their logs, and removes the FIFOs of containers that are
// gone.
func (r *Runtime) reattachLogs(ctx context.Context) error {
	ctx = r.withNS(ctx)
	list, err := r.client.Containers(ctx, fmt.Sprintf("labels.%q", labelPodUID))
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	var errs []error
	// FIFOs of containers that are gone (removed while no agent ran) are
	// leftovers; nothing else makes FIFOs while the runtime starts.
	ids := map[string]bool{}
	for _, c := range list {
		ids[c.ID()] = true
	}
	dirs, err := os.ReadDir(fifosDir(r.stateDir))
	if err != nil {
		errs = append(errs, err)
	}
	for _, d := range dirs {
		if !ids[d.Name()] {
			if err := r.removeFIFOs(d.Name()); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, c := range list {
		labels, err := c.Labels(ctx)
		if errdefs.IsNotFound(err) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("labels of container %s: %w", c.ID(), err))
			continue
		}
		if _, err := c.Task(ctx, r.attachTaskIO(c.ID(), labels[labelPodUID], labels[labelContainer])); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("attach to the output of container %s: %w", c.ID(), err))
		}
	}
	return errors.Join(errs...)
}

// removeFIFOs removes the FIFO directory of a container that is gone. A
// copier still draining its last task's output reads on through its open
// descriptors.
func (r *Runtime) removeFIFOs(id string) error {
	if err := os.RemoveAll(filepath.Join(fifosDir(r.stateDir), id)); err != nil {
		return fmt.Errorf("remove fifos of container %s: %w", id, err)
	}
	return nil
}
