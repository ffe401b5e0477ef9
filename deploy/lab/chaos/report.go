package chaos

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"sync"
	"text/tabwriter"
	"time"
)

// Report is what a run found: faults injected, writes made, checks run,
// violations (each told once) and recovery times.
type Report struct {
	mu            sync.Mutex
	Seed          uint64
	Faults        map[FaultKind]int
	Recovery      map[FaultKind][]time.Duration
	Checks        map[Invariant]int
	Violations    map[Invariant][]string
	Ops           map[OpKind]map[Outcome]int
	Writes        map[Outcome]int
	LeaderChanges int
	// History: the clients' answers by op and code, the operations in
	// the checked history and porcupine's verdict (Ok, Illegal, Unknown).
	History        map[RegOp]map[string]int
	HistoryOps     int
	HistoryVerdict string
	// Windows are the episodes' times; FaultFigures what the history
	// clients saw in them (figures.go).
	Windows      []Window
	FaultFigures map[FaultKind]*FaultFigures
	Elapsed      time.Duration
	seen         map[string]bool
}

// episodeBegan opens an episode's window at its first fault.
func (r *Report) episodeBegan(k FaultKind, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Windows = append(r.Windows, Window{Kind: k, Start: at})
}

// episodeEnded closes the open window once the fleet has settled.
func (r *Report) episodeEnded(at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.Windows); n > 0 && r.Windows[n-1].End.IsZero() {
		r.Windows[n-1].End = at
	}
}

// figures computes the fault figures from the clients' calls.
func (r *Report) figures(calls []Call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.FaultFigures = Figures(r.Windows, calls)
}

func newReport(seed uint64) *Report {
	return &Report{
		Seed: seed, Faults: map[FaultKind]int{}, Recovery: map[FaultKind][]time.Duration{},
		Checks: map[Invariant]int{}, Violations: map[Invariant][]string{}, Ops: map[OpKind]map[Outcome]int{},
		seen: map[string]bool{},
	}
}

func (r *Report) fault(k FaultKind) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Faults[k]++
}

func (r *Report) recovered(k FaultKind, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Recovery[k] = append(r.Recovery[k], d)
}

func (r *Report) checked(inv Invariant) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Checks[inv]++
}

func (r *Report) op(k OpKind, o Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Ops[k] == nil {
		r.Ops[k] = map[Outcome]int{}
	}
	r.Ops[k][o]++
}

func (r *Report) historyAnswers(a map[RegOp]map[string]int, ops int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.History, r.HistoryOps = a, ops
}

func (r *Report) historyResult(v string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.HistoryVerdict = v
}

func (r *Report) leaderChanged() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.LeaderChanges++
}

// violation records what once and says whether it was new.
func (r *Report) violation(inv Invariant, what string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[string(inv)+what] {
		return false
	}
	r.seen[string(inv)+what] = true
	r.Violations[inv] = append(r.Violations[inv], what)
	return true
}

// TotalViolations counts the violations of every invariant.
func (r *Report) TotalViolations() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, v := range r.Violations {
		n += len(v)
	}
	return n
}

// Print writes the summary tables.
func (r *Report) Print(w io.Writer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(w, "\nchaos summary: seed %d, %v, %d leader changes seen\n\n", r.Seed, r.Elapsed.Round(time.Second), r.LeaderChanges)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FAULT\tINJECTED\tRECOVERED\tRECOVERY MIN\tMEDIAN\tMAX")
	for _, k := range roundKinds() {
		d := slices.Clone(r.Recovery[k])
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		mn, med, mx := "-", "-", "-"
		if len(d) > 0 {
			mn, med, mx = round(d[0]), round(d[len(d)/2]), round(d[len(d)-1])
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\n", k, r.Faults[k], len(d), mn, med, mx)
	}
	tw.Flush()
	fmt.Fprintln(w)
	if len(r.FaultFigures) > 0 {
		printFigures(w, r.FaultFigures, r.Recovery)
		fmt.Fprintln(w)
	}
	fmt.Fprintln(tw, "WRITE\tACKED\tREJECTED\tAMBIGUOUS")
	for _, k := range []OpKind{OpScale, OpCreatePod, OpDeletePod} {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", k, r.Ops[k][Acked], r.Ops[k][Rejected], r.Ops[k][Ambiguous])
	}
	tw.Flush()
	fmt.Fprintln(w)
	if r.History != nil {
		fmt.Fprintf(w, "history: %d operations, linearizability %s\n", r.HistoryOps, r.HistoryVerdict)
		fmt.Fprintln(tw, "CALL\tANSWERS (HTTP code × count)")
		for _, k := range []RegOp{RegCreate, RegGet, RegUpdate, RegDelete, "list"} {
			fmt.Fprintf(tw, "%s\t%s\n", k, FormatAnswers(r.History[k]))
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	fmt.Fprintln(tw, "INVARIANT\tCHECKS\tVIOLATIONS")
	for _, inv := range Invariants {
		fmt.Fprintf(tw, "%s\t%d\t%d\n", inv, r.Checks[inv], len(r.Violations[inv]))
	}
	tw.Flush()
	for _, inv := range Invariants {
		for _, v := range r.Violations[inv] {
			fmt.Fprintf(w, "  %s: %s\n", inv, v)
		}
	}
}

func round(d time.Duration) string { return d.Round(100 * time.Millisecond).String() }
