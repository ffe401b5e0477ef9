package agent

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// startupPagesDelay is how long after start an agent gives back the pages
// of its binary that only start-up touched: by then Raft has restored,
// gossip has joined and the node's first pass has run.
const startupPagesDelay = 10 * time.Second

// releaseStartupPagesLater gives back, once, startupPagesDelay after the
// agent started, the binary's pages that start-up touched and idle work
// does not (releaseStartupPages).
func releaseStartupPagesLater(ctx context.Context, log *slog.Logger) {
	select {
	case <-ctx.Done():
		return
	case <-time.After(startupPagesDelay):
	}
	before, _ := binaryResidentKB()
	if err := releaseStartupPages(); err != nil {
		log.Debug("give back the binary's start-up pages", "err", err)
		return
	}
	after, _ := binaryResidentKB()
	log.Debug("gave back the binary's start-up pages", "residentKBBefore", before, "residentKBAfter", after)
	// And the heap start-up used and freed (restoring Raft's snapshot,
	// the first registrations, the API's tables built once): the runtime
	// would return it only slowly, in the background.
	debug.FreeOSMemory()
}

// releaseStartupPages unmaps the pages of this process's own binary that
// are mapped read-only (code, read-only data, the function tables), so
// that only those touched again stay resident. Start-up maps most of the
// 43 MB binary although an idle agent runs a small part of it: every one
// of some 370 package initialisers faults its page in, and the kernel maps
// up to 64 KB of cached file pages around each fault, so some 30 MB of
// the binary's pages were resident in an idle agent (docs/performance.md).
// The pages are clean copies of the file: MADV_DONTNEED drops only this
// process's mapping of them (they stay in the page cache, shared with
// every process running the binary), and a later touch maps them again
// without reading the disk. Writable mappings (data, bss) are never
// touched, and neither is a read-only one holding private (written)
// pages, which dropping would lose.
func releaseStartupPages() error {
	ranges, err := binaryMappings()
	if err != nil {
		return err
	}
	for _, r := range ranges {
		if _, _, e := unix.Syscall(unix.SYS_MADVISE, r.start, r.end-r.start, unix.MADV_DONTNEED); e != 0 {
			return fmt.Errorf("madvise %#x-%#x: %w", r.start, r.end, e)
		}
	}
	return nil
}

// binaryResidentKB is how much of this process's binary is resident in
// its read-only mappings, from /proc/self/smaps.
func binaryResidentKB() (int64, error) {
	ranges, err := binaryMappings()
	if err != nil {
		return 0, err
	}
	var kb int64
	for _, r := range ranges {
		kb += r.rssKB
	}
	return kb, nil
}

type mapping struct {
	start, end uintptr
	rssKB      int64
}

// binaryMappings lists the read-only, private mappings of this process's
// executable that hold no private (written) pages, from /proc/self/smaps.
func binaryMappings() ([]mapping, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return nil, err
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var (
		out  []mapping
		cur  *mapping
		keep bool
	)
	flush := func() {
		if cur != nil && keep {
			out = append(out, *cur)
		}
		cur, keep = nil, false
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) >= 5 && strings.Contains(fields[0], "-") && len(fields[1]) == 4 {
			// A mapping's header: address perms offset dev inode [path].
			flush()
			lo, hi, ok := strings.Cut(fields[0], "-")
			start, err1 := strconv.ParseUint(lo, 16, 64)
			end, err2 := strconv.ParseUint(hi, 16, 64)
			path := strings.TrimSpace(strings.Join(fields[5:], " "))
			perms := fields[1]
			if !ok || err1 != nil || err2 != nil || path != exe || perms[1] == 'w' || perms[3] != 'p' {
				continue
			}
			cur, keep = &mapping{start: uintptr(start), end: uintptr(end)}, true
			continue
		}
		if cur == nil || len(fields) < 2 {
			continue
		}
		n, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			continue
		}
		switch fields[0] {
		case "Rss:":
			cur.rssKB = n
		case "Anonymous:":
			// Pages this process wrote (copied on write) would be lost.
			// Private_Dirty says nothing here: a binary written to disk
			// moments ago has dirty pages in the page cache.
			if n != 0 {
				keep = false
			}
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no read-only mapping of %s in /proc/self/smaps", exe)
	}
	return out, nil
}
