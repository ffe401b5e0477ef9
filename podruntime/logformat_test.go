package podruntime

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tickingClock returns a time one second later at every call.
func tickingClock(start time.Time) func() time.Time {
	n := 0
	return func() time.Time {
		n++
		return start.Add(time.Duration(n) * time.Second)
	}
}

func TestCopyCRIWritesOneRecordPerLineAndCutsLongAndUnendedLines(t *testing.T) {
	start := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
	long := strings.Repeat("x", maxLogLine+10)
	var out bytes.Buffer
	if err := copyCRI(strings.NewReader("one\n\ntwo\r\n"+long+"\nend"), "stderr", &out, tickingClock(start)); err != nil {
		t.Fatal(err)
	}
	want := "2026-12-07T05:00:01Z stderr F one\n" +
		"2026-12-07T05:00:02Z stderr F \n" +
		"2026-12-07T05:00:03Z stderr F two\r\n" +
		"2026-12-07T05:00:04Z stderr P " + long[:maxLogLine] + "\n" +
		"2026-12-07T05:00:05Z stderr F " + long[maxLogLine:] + "\n" +
		"2026-12-07T05:00:06Z stderr P end\n"
	if out.String() != want {
		t.Errorf("records:\n%.300q\nwant:\n%.300q", out.String(), want)
	}
	recs, rest := parseCRILog(out.Bytes())
	if len(rest) != 0 || len(recs) != 6 {
		t.Fatalf("parsed %d records, rest %q", len(recs), rest)
	}
	var content bytes.Buffer
	if err := (&recordWriter{}).write(&content, recs); err != nil {
		t.Fatal(err)
	}
	if want := "one\n\ntwo\r\n" + long + "\nend"; content.String() != want {
		t.Errorf("content read back %.100q, want the bytes written", content.String())
	}
	if !recs[0].time.Equal(start.Add(time.Second)) || recs[0].stream != "stderr" || recs[0].partial || !recs[3].partial {
		t.Errorf("first record %+v, fourth partial %v", recs[0], recs[3].partial)
	}
}

func TestParseCRIRecordRefusesWhatIsNotARecord(t *testing.T) {
	for _, line := range []string{"hello world", "2026-12-07T05:00:01Z stdin F x", "2026-12-07T05:00:01Z stdout X x",
		"yesterday stdout F x", "2026-12-07T05:00:01Z stdout", ""} {
		if _, ok := parseCRIRecord([]byte(line)); ok {
			t.Errorf("%q parsed as a record", line)
		}
	}
	rec, ok := parseCRIRecord([]byte("2026-12-07T05:00:01.5+01:00 stdout P:F a b"))
	if !ok || string(rec.content) != "a b" || !rec.partial || !rec.time.Equal(time.Date(2026, 12, 7, 4, 0, 1, 5e8, time.UTC)) {
		t.Errorf("got %+v %v", rec, ok)
	}
}

func TestTailTimestampsAndSinceCountWholeLines(t *testing.T) {
	start := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
	var log bytes.Buffer
	now := tickingClock(start)
	for _, r := range []struct{ tag, content string }{{"F", "a"}, {"P", "b1"}, {"P", "b2"}, {"F", "b3"}, {"F", "c"}, {"P", "d"}} {
		log.Write(appendCRIRecord(nil, now(), "stdout", r.tag, []byte(r.content)))
	}
	log.WriteString("2026-12-07T05:00:07Z stdout F half-wri")
	recs, rest := parseCRILog(log.Bytes())
	if string(rest) != "2026-12-07T05:00:07Z stdout F half-wri" || len(recs) != 6 {
		t.Fatalf("%d records, rest %q", len(recs), rest)
	}
	for _, tc := range []struct {
		tail int64
		opts LogOptions
		want string
	}{
		{-1, LogOptions{}, "a\nb1b2b3\nc\nd"},
		{0, LogOptions{}, ""},
		{1, LogOptions{}, "d"},
		{2, LogOptions{}, "c\nd"},
		{3, LogOptions{}, "b1b2b3\nc\nd"},
		{9, LogOptions{}, "a\nb1b2b3\nc\nd"},
		{2, LogOptions{Timestamps: true}, "2026-12-07T05:00:05.000000000Z c\n2026-12-07T05:00:06.000000000Z d"},
		{3, LogOptions{Timestamps: true}, "2026-12-07T05:00:02.000000000Z b1b2b3\n2026-12-07T05:00:05.000000000Z c\n2026-12-07T05:00:06.000000000Z d"},
		{-1, LogOptions{SinceTime: start.Add(5 * time.Second)}, "c\nd"},
		{-1, LogOptions{SinceTime: start.Add(5 * time.Second), Timestamps: true}, "2026-12-07T05:00:05.000000000Z c\n2026-12-07T05:00:06.000000000Z d"},
	} {
		var out bytes.Buffer
		if err := (&recordWriter{opts: tc.opts}).write(&out, tailRecords(recs, tc.tail)); err != nil {
			t.Fatal(err)
		}
		if out.String() != tc.want {
			t.Errorf("tail %d %+v: %q, want %q", tc.tail, tc.opts, out.String(), tc.want)
		}
	}
}

// A container started before the agent stored times left its raw output:
// it reads as before, and what needs times is refused with the reason.
func TestRawLogOfAnOlderAgentReadsAsBeforeAndRefusesTimes(t *testing.T) {
	r := &Runtime{stateDir: t.TempDir()}
	path := r.LogPath("uid-1", "main")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("old one\nold two\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := r.Logs(t.Context(), "uid-1", "main", LogOptions{TailLines: 1}, &out); err != nil || out.String() != "old two\n" {
		t.Errorf("raw tail 1: %q %v", out.String(), err)
	}
	for _, opts := range []LogOptions{{TailLines: -1, Timestamps: true}, {TailLines: -1, SinceTime: time.Now()}} {
		out.Reset()
		err := r.Logs(t.Context(), "uid-1", "main", opts, &out)
		if !errors.Is(err, ErrNoTimes) || out.Len() != 0 {
			t.Errorf("%+v on a raw log: %v, wrote %q; want ErrNoTimes and nothing", opts, err, out.String())
		}
	}
	// The same container's next instance writes records; its previous
	// (raw) instance still reads.
	if err := retireLog(path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, appendCRIRecord(nil, time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC), "stdout", tagFull, []byte("new")), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := r.Logs(t.Context(), "uid-1", "main", LogOptions{TailLines: -1, Timestamps: true}, &out); err != nil || out.String() != "2026-12-07T05:00:00.000000000Z new\n" {
		t.Errorf("new instance with timestamps: %q %v", out.String(), err)
	}
	out.Reset()
	if err := r.Logs(t.Context(), "uid-1", "main", LogOptions{TailLines: -1, Previous: true}, &out); err != nil || out.String() != "old one\nold two\n" {
		t.Errorf("previous raw instance: %q %v", out.String(), err)
	}
}
