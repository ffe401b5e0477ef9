package podruntime

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"time"
)

// Container logs are stored in the CRI log format that the kubelet reads
// (k8s.io/cri-client's logs package) and containerd's CRI plugin writes
// (pkg/cri/io/logger.go), one record a line:
//
//	2026-12-07T05:53:20.123456789Z stdout F hello
//
// the time the agent read the line, the stream, F for a full line or P for
// a part of one (a line longer than maxLogLine, or text without a newline
// when its stream ended), and the content without its newline. containerd's
// writer is not imported: its package pulls k8s.io/cri-api for two
// constants and adds about 3 MB to the binary.

// maxLogLine is where a long line is cut into P records, as containerd's
// max_container_log_line_size default.
const maxLogLine = 16 << 10

const (
	tagFull    = "F"
	tagPartial = "P"
)

// copyCRI appends what src carries to w as CRI records of stream, one
// Write per record so that stdout's and stderr's records, appended to the
// same file, never mix within a record. It returns when src ends or
// fails, after writing a last partial line as a P record.
func copyCRI(src io.Reader, stream string, w io.Writer, now func() time.Time) error {
	r := bufio.NewReaderSize(src, maxLogLine)
	var rec []byte
	for {
		line, err := r.ReadSlice('\n')
		if len(line) > 0 {
			tag := tagPartial
			if line[len(line)-1] == '\n' {
				tag, line = tagFull, line[:len(line)-1]
			}
			rec = appendCRIRecord(rec[:0], now(), stream, tag, line)
			if _, werr := w.Write(rec); werr != nil {
				return werr
			}
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			return nil
		default:
			return err
		}
	}
}

func appendCRIRecord(b []byte, t time.Time, stream, tag string, content []byte) []byte {
	b = t.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, ' ')
	b = append(b, stream...)
	b = append(b, ' ')
	b = append(b, tag...)
	b = append(b, ' ')
	b = append(b, content...)
	return append(b, '\n')
}

// logRecord is one parsed CRI record.
type logRecord struct {
	time    time.Time
	stream  string
	partial bool   // P: the line goes on in the next record of the stream
	content []byte // without the newline
}

// parseCRIRecord reads one line of a CRI log (without its newline) the way
// the kubelet does: time, stream, tags (F, P, or several joined by ':'),
// content.
func parseCRIRecord(line []byte) (logRecord, bool) {
	var rec logRecord
	ts, rest, ok := bytes.Cut(line, []byte{' '})
	if !ok {
		return rec, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(ts))
	if err != nil {
		return rec, false
	}
	stream, rest, ok := bytes.Cut(rest, []byte{' '})
	if !ok || (string(stream) != "stdout" && string(stream) != "stderr") {
		return rec, false
	}
	tags, content, _ := bytes.Cut(rest, []byte{' '})
	partial := false
	for _, tag := range bytes.Split(tags, []byte{':'}) {
		switch string(tag) {
		case tagPartial:
			partial = true
		case tagFull:
		default:
			return rec, false
		}
	}
	return logRecord{time: t, stream: string(stream), partial: partial, content: content}, true
}

// isCRILog says whether a log file's content is in the CRI format: its
// first line parses. An empty file is, as every task this agent starts
// writes one; a container started by an agent before it stored times
// (containerd's shim wrote its raw output) is not.
func isCRILog(b []byte) bool {
	if len(b) == 0 {
		return true
	}
	line, _, _ := bytes.Cut(b, []byte{'\n'})
	_, ok := parseCRIRecord(line)
	return ok
}

// parseCRILog splits b into records; rest is a last line without its
// newline yet (a record being written). A line that does not parse is
// kept as a full line of content without a time.
func parseCRILog(b []byte) (recs []logRecord, rest []byte) {
	for len(b) > 0 {
		line, after, ok := bytes.Cut(b, []byte{'\n'})
		if !ok {
			return recs, b
		}
		rec, ok := parseCRIRecord(line)
		if !ok {
			rec = logRecord{content: line}
		}
		recs = append(recs, rec)
		b = after
	}
	return recs, nil
}

// tailRecords keeps the records of the last n lines; a line is a run of P
// records ended by an F record (or by the end of the log).
func tailRecords(recs []logRecord, n int64) []logRecord {
	if n < 0 {
		return recs
	}
	i := len(recs)
	for ; n > 0 && i > 0; n-- {
		i--
		for i > 0 && recs[i-1].partial {
			i--
		}
	}
	return recs[i:]
}

// timestampLayout is how `kubectl logs --timestamps` shows a line's time:
// the kubelet's fixed-width RFC 3339 with nanoseconds.
const timestampLayout = "2006-01-02T15:04:05.000000000Z07:00"

// recordWriter writes records as a log's reader wants them: the content,
// the line's time before each line with Timestamps, records older than
// Since left out.
type recordWriter struct {
	opts LogOptions
	// midLine: the last record written was a P record, so the next one
	// goes on the same line and gets no time of its own.
	midLine bool
	buf     []byte
}

func (rw *recordWriter) write(w io.Writer, recs []logRecord) error {
	rw.buf = rw.buf[:0]
	for _, rec := range recs {
		if !rw.opts.SinceTime.IsZero() && !rec.time.IsZero() && rec.time.Before(rw.opts.SinceTime) {
			continue
		}
		if rw.opts.Timestamps && !rw.midLine && !rec.time.IsZero() {
			rw.buf = rec.time.UTC().AppendFormat(rw.buf, timestampLayout)
			rw.buf = append(rw.buf, ' ')
		}
		rw.buf = append(rw.buf, rec.content...)
		if !rec.partial {
			rw.buf = append(rw.buf, '\n')
		}
		rw.midLine = rec.partial
	}
	if len(rw.buf) == 0 {
		return nil
	}
	_, err := w.Write(rw.buf)
	return err
}
