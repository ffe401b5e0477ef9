package podruntime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"
)

// A container's log lives in up to four files next to each other:
//
//	NAME.log            the running instance, written by this agent (logio.go)
//	NAME.log.1          its older part, moved aside by RotateLogs
//	NAME.previous.log   the last terminated instance (kubectl logs --previous)
//	NAME.previous.log.1 and that instance's older part
//
// in the CRI log format (logformat.go). A container started before agents
// stored times has its raw output there instead, written by containerd's
// shim; it is read as before, without what needs a line's time.
//
// Rotation copies and truncates instead of renaming because the writer
// keeps the file open for the life of the task; with O_APPEND its next
// write lands at the new end of the truncated file.
const (
	rotatedSuffix  = ".1"
	previousSuffix = ".previous.log"
)

// ErrNoLog says a container has no log (yet, or no previous instance).
var ErrNoLog = errors.New("no log")

// ErrNoTimes says a log holds no time per line: its container was started
// by an agent that did not store them.
var ErrNoTimes = errors.New("the log of this container instance was stored without the time of each line (its container was started before the agent stored them); timestamps, sinceSeconds and sinceTime work from the container's next start")

// LogOptions selects what Logs writes.
type LogOptions struct {
	// Follow keeps writing what the container writes until it exits or ctx
	// is done.
	Follow bool
	// Previous reads the last terminated instance instead of the current one.
	Previous bool
	// TailLines, when >= 0, starts that many lines before the end.
	TailLines int64
	// Timestamps puts the time each line was written before it.
	Timestamps bool
	// SinceTime, when set, leaves out the lines written before it.
	SinceTime time.Time
}

func (o LogOptions) needTimes() bool { return o.Timestamps || !o.SinceTime.IsZero() }

// Logs writes a container's log to w. Without Follow it returns at the end
// of what was written so far.
func (r *Runtime) Logs(ctx context.Context, podUID, container string, opts LogOptions, w io.Writer) error {
	cur := r.LogPath(podUID, container)
	if opts.Previous {
		cur = previousLogPath(cur)
		opts.Follow = false
	}
	f, err := os.Open(cur)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("logs of container %s of pod %s: %w", container, podUID, ErrNoLog)
	}
	if err != nil {
		return fmt.Errorf("logs of container %s of pod %s: %w", container, podUID, err)
	}
	defer f.Close()
	// Read the open file, not the name: a rotation between the two reads
	// must not make us skip or repeat the current file.
	older, err := os.ReadFile(cur + rotatedSuffix)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read rotated log %s: %w", cur+rotatedSuffix, err)
	}
	current, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("read log %s: %w", cur, err)
	}
	if !isCRILog(older) || !isCRILog(current) {
		if opts.needTimes() {
			return fmt.Errorf("logs of container %s of pod %s: %w", container, podUID, ErrNoTimes)
		}
		return r.rawLogs(ctx, podUID, container, f, older, current, opts, w)
	}
	recs, rest := parseCRILog(append(older, current...))
	rw := &recordWriter{opts: opts}
	if err := rw.write(w, tailRecords(recs, opts.TailLines)); err != nil {
		return err
	}
	if !opts.Follow {
		return nil
	}
	// A record still being written is read again with what follows it.
	offset := int64(max(0, len(current)-len(rest)))
	return r.follow(ctx, podUID, container, f, offset, w, func(b []byte) ([]byte, error) {
		recs, rest := parseCRILog(b)
		return rest, rw.write(w, recs)
	})
}

// rawLogs writes a log without times, the shim's raw output.
func (r *Runtime) rawLogs(ctx context.Context, podUID, container string, f *os.File, older, current []byte, opts LogOptions, w io.Writer) error {
	offset := int64(len(current))
	all := append(older, current...)
	if opts.TailLines >= 0 {
		all = lastLines(all, opts.TailLines)
	}
	if _, err := w.Write(all); err != nil {
		return err
	}
	if !opts.Follow {
		return nil
	}
	return r.follow(ctx, podUID, container, f, offset, w, func(b []byte) ([]byte, error) {
		_, err := w.Write(b)
		return nil, err
	})
}

// followPoll is how often a followed log is read again.
const followPoll = 200 * time.Millisecond

// followGrace bounds the wait, once a container stopped, for the last of
// its output to reach the log: a process it left behind may hold its
// stdout open.
const followGrace = 2 * time.Second

// follow hands what is appended to f from offset on to emit, until the
// container stops running (after a last read) or ctx is done. emit returns
// the part it could not use yet (a record being written); it comes again
// with what follows.
func (r *Runtime) follow(ctx context.Context, podUID, container string, f *os.File, offset int64, w io.Writer, emit func([]byte) ([]byte, error)) error {
	flusher, _ := w.(interface{ Flush() })
	tick := time.NewTicker(followPoll)
	defer tick.Stop()
	buf := make([]byte, 32<<10)
	var pending []byte
	for {
		running := r.running(ctx, podUID, container)
		if !running {
			// The copiers may still be writing the last lines.
			if done := r.logs.doneOf(containerID(podUID, container)); done != nil {
				grace := time.NewTimer(followGrace)
				select {
				case <-done:
				case <-grace.C:
				case <-ctx.Done():
				}
				grace.Stop()
			}
		}
		st, err := f.Stat()
		if err != nil {
			return fmt.Errorf("follow log: %w", err)
		}
		if st.Size() < offset {
			offset, pending = 0, nil // truncated by a rotation
		}
		for {
			n, err := f.ReadAt(buf, offset)
			if n > 0 {
				rest, werr := emit(append(pending, buf[:n]...))
				if werr != nil {
					return werr
				}
				pending = append(pending[:0:0], rest...)
				offset += int64(n)
			}
			if err == io.EOF || n == 0 {
				break
			}
			if err != nil {
				return fmt.Errorf("follow log: %w", err)
			}
		}
		if flusher != nil {
			flusher.Flush()
		}
		if !running {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// running says whether the container's task is up; while containerd cannot
// be asked, assume it is, so a follower does not stop on a hiccup.
func (r *Runtime) running(ctx context.Context, podUID, container string) bool {
	ctx = r.withNS(ctx)
	cont, err := r.client.LoadContainer(ctx, containerID(podUID, container))
	if errdefs.IsNotFound(err) {
		return false
	}
	if err != nil {
		return true
	}
	task, err := cont.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		return false
	}
	if err != nil {
		return true
	}
	st, err := task.Status(ctx)
	if err != nil {
		return !errdefs.IsNotFound(err)
	}
	return st.Status == containerd.Running || st.Status == containerd.Paused || st.Status == containerd.Pausing || st.Status == containerd.Created
}

// lastLines returns the tail of b holding its last n lines.
func lastLines(b []byte, n int64) []byte {
	if n == 0 {
		return nil
	}
	end := len(b)
	if end > 0 && b[end-1] == '\n' {
		end-- // the final newline ends the last line, it does not start one
	}
	for i := end - 1; i >= 0; i-- {
		if b[i] == '\n' {
			n--
			if n == 0 {
				return b[i+1:]
			}
		}
	}
	return b
}

// retireLog moves the log of a container's last instance aside before a
// new instance starts writing, so --previous can show it.
func retireLog(path string) error {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("retire log %s: %w", path, err)
	}
	if st.Size() == 0 {
		return nil
	}
	prev := previousLogPath(path)
	if err := os.Remove(prev + rotatedSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("retire log %s: %w", path, err)
	}
	if err := os.Rename(path+rotatedSuffix, prev+rotatedSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("retire log %s: %w", path, err)
	}
	if err := os.Rename(path, prev); err != nil {
		return fmt.Errorf("retire log %s: %w", path, err)
	}
	return nil
}

func previousLogPath(current string) string {
	return strings.TrimSuffix(current, ".log") + previousSuffix
}

// RotateLogs moves the content of every container log of this node larger
// than maxBytes into its ".1" file (replacing the one before), so a node
// keeps at most about twice maxBytes per container instance.
func (r *Runtime) RotateLogs(maxBytes int64) error {
	var errs []error
	err := filepath.WalkDir(logsDir(r.stateDir), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		if d.IsDir() || !strings.HasSuffix(path, ".log") || strings.HasSuffix(path, previousSuffix) {
			return nil
		}
		info, err := d.Info()
		if err != nil || info.Size() <= maxBytes {
			return nil
		}
		if err := rotateLog(path); err != nil {
			errs = append(errs, err)
		}
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// rotateLog copies the whole lines of path to path.1 and truncates path,
// putting back a trailing partial line and what arrived during the copy.
func rotateLog(path string) error {
	src, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("rotate log %s: %w", path, err)
	}
	defer src.Close()
	data, err := io.ReadAll(src)
	if err != nil {
		return fmt.Errorf("rotate log %s: %w", path, err)
	}
	// Keep a partial last line in the live file so a line is never split
	// between two files.
	cut := bytes.LastIndexByte(data, '\n') + 1
	if cut == 0 {
		cut = len(data)
	}
	tmp := path + rotatedSuffix + ".tmp"
	if err := os.WriteFile(tmp, data[:cut], 0o600); err != nil {
		return fmt.Errorf("rotate log %s: %w", path, err)
	}
	if err := os.Rename(tmp, path+rotatedSuffix); err != nil {
		return fmt.Errorf("rotate log %s: %w", path, err)
	}
	// What was written after our read, plus the partial line, stays.
	rest, err := io.ReadAll(src)
	if err != nil {
		return fmt.Errorf("rotate log %s: %w", path, err)
	}
	keep := append(append([]byte{}, data[cut:]...), rest...)
	if err := src.Truncate(0); err != nil {
		return fmt.Errorf("rotate log %s: %w", path, err)
	}
	if len(keep) == 0 {
		return nil
	}
	// Append like the shim does, so a write of its own in between lands
	// next to ours instead of under it.
	app, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("rotate log %s: %w", path, err)
	}
	defer app.Close()
	if _, err := app.Write(keep); err != nil {
		return fmt.Errorf("rotate log %s: %w", path, err)
	}
	return nil
}
