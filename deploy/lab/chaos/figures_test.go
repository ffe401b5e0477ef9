package chaos

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestFiguresPerEpisode(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	call := func(op RegOp, code string, c, r float64) Call {
		return Call{Op: op, Code: code, Call: at(c), Return: at(r)}
	}
	windows := []Window{
		{Kind: KillLeader, Start: at(10), End: at(30)},
		{Kind: KillLeader, Start: at(40), End: at(60)},
		{Kind: QuorumLoss, Start: at(70), End: at(80)},
	}
	calls := []Call{
		call(RegUpdate, "200", 5, 6),     // before any episode
		call(RegCreate, "503", 11, 11),   // no leader: retry
		call(RegGet, "200", 12, 12.1),    // a read is no write back
		call(RegUpdate, "error", 12, 14), // no answer: retry
		call(RegCreate, "409", 15, 15.2), // the object's own answer
		call(RegDelete, "200", 16, 16.5), // writes back 6.5 s after the fault
		call(RegCreate, "201", 17, 17.1),
		call(RegUpdate, "504", 41, 56),    // timed out: retry
		call(RegUpdate, "200", 42, 43),    // back after 3 s
		call(RegCreate, "unsent", 71, 71), // quorum lost: nothing acknowledged
		call(RegDelete, "cancelled", 79, 85),
	}
	figs := Figures(windows, calls)
	kl := figs[KillLeader]
	if kl == nil || kl.Episodes != 2 || len(kl.WritesBack) != 2 || kl.NoWriteBack != 0 {
		t.Fatalf("kill-leader figures %+v", kl)
	}
	if kl.WritesBack[0] != 6500*time.Millisecond || kl.WritesBack[1] != 3*time.Second {
		t.Errorf("writes back %v, want [6.5s 3s]", kl.WritesBack)
	}
	if kl.Retry != 3 {
		t.Errorf("retried %d, want 3 (503, error, 504)", kl.Retry)
	}
	if got := FormatAnswers(kl.Errors); got != "503×1 504×1 error×1" {
		t.Errorf("errors %q", got)
	}
	ql := figs[QuorumLoss]
	if ql.NoWriteBack != 1 || len(ql.WritesBack) != 0 || ql.Retry != 1 || FormatAnswers(ql.Errors) != "unsent×1" {
		t.Errorf("quorum-loss figures %+v", ql)
	}

	var b bytes.Buffer
	printFigures(&b, figs, map[FaultKind][]time.Duration{KillLeader: {7 * time.Second, 5 * time.Second}})
	out := b.String()
	for _, want := range []string{"kill-leader", "6.5s", "7s", "(1 never)", "503×1 504×1 error×1"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "kill-server") {
		t.Errorf("a fault with no episode printed:\n%s", out)
	}
}
