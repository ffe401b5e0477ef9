package agent

import (
	"testing"
)

// The test binary's own start-up leaves most of its read-only pages
// mapped; giving them back unmaps them, and the process runs on (its code
// maps back in as it runs).
func TestReleaseStartupPages(t *testing.T) {
	before, err := binaryResidentKB()
	if err != nil {
		t.Fatal(err)
	}
	if err := releaseStartupPages(); err != nil {
		t.Fatal(err)
	}
	after, err := binaryResidentKB()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the binary's resident read-only pages: %d kB before, %d kB after", before, after)
	if after >= before/2 {
		t.Errorf("resident pages of the binary went from %d kB to %d kB, want less than half", before, after)
	}
	// Still runs: code and read-only data come back on use.
	if got := livenessName(""); got != "lan/2s" {
		t.Errorf("after giving back the pages, livenessName = %q", got)
	}
}
