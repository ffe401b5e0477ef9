package chaos

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"text/tabwriter"
	"time"
)

// Call is one call of the history clients as the fault figures count it:
// what it was, its answer (an HTTP code, or "error", "unsent",
// "cancelled", "undecodable") and when it was made and answered.
type Call struct {
	Op           RegOp
	Code         string
	Call, Return time.Time
}

func (c Call) write() bool { return c.Op == RegCreate || c.Op == RegUpdate || c.Op == RegDelete }

func (c Call) succeeded() bool { return len(c.Code) == 3 && c.Code[0] == '2' }

// mustRetry is an answer that leaves a client nothing to do but ask again:
// no answer at all, or a 5xx (503 no leader, 504 timed out, 502 the
// leader it was forwarded to went away). 404 and 409 are the objects'
// own answers, not the fault's.
func (c Call) mustRetry() bool {
	switch c.Code {
	case "error", "unsent", "undecodable":
		return true
	}
	return len(c.Code) == 3 && c.Code[0] == '5'
}

// Window is one episode, from its first fault to the end of the settle
// after its heal.
type Window struct {
	Kind       FaultKind
	Start, End time.Time
}

// FaultFigures is what the clients saw during the episodes of one kind.
type FaultFigures struct {
	Episodes int
	// WritesBack: for each episode, from its first fault until the first
	// write made after the fault was acknowledged (fleet-wide: any client).
	WritesBack []time.Duration
	// NoWriteBack counts the episodes in which no write made after the
	// fault was acknowledged before the episode ended.
	NoWriteBack int
	// Retry counts the calls in the episodes that a client had to make
	// again; Errors counts the episodes' answers other than 2xx, 404 and
	// 409 by code.
	Retry  int
	Errors map[string]int
}

// Figures computes the fault figures from the episodes' windows and the
// clients' calls. A call belongs to the episode whose window holds its
// call time.
func Figures(windows []Window, calls []Call) map[FaultKind]*FaultFigures {
	out := map[FaultKind]*FaultFigures{}
	sorted := slices.Clone(calls)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Call.Before(sorted[j].Call) })
	for _, w := range windows {
		f := out[w.Kind]
		if f == nil {
			f = &FaultFigures{Errors: map[string]int{}}
			out[w.Kind] = f
		}
		f.Episodes++
		var back time.Time
		for _, c := range sorted {
			if c.Call.Before(w.Start) || !c.Call.Before(w.End) {
				continue
			}
			if c.write() && c.succeeded() && (back.IsZero() || c.Return.Before(back)) {
				back = c.Return
			}
			if c.mustRetry() {
				f.Retry++
			}
			if !c.succeeded() && c.Code != "404" && c.Code != "409" && c.Code != "cancelled" {
				f.Errors[c.Code]++
			}
		}
		if back.IsZero() {
			f.NoWriteBack++
		} else {
			f.WritesBack = append(f.WritesBack, back.Sub(w.Start))
		}
	}
	return out
}

// printFigures writes the fault figures table: per fault, time until
// writes succeed again and until replacements run (median and max), the
// calls clients had to retry and their errors by code.
func printFigures(w io.Writer, figs map[FaultKind]*FaultFigures, recovery map[FaultKind][]time.Duration) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FAULT\tEPISODES\tWRITES OK AGAIN MEDIAN\tMAX\tREPLACEMENTS RUN MEDIAN\tMAX\tCALLS RETRIED\tCLIENT ERRORS (code×count)")
	for _, k := range roundKinds() {
		f := figs[k]
		if f == nil {
			continue
		}
		back := spread(f.WritesBack)
		if f.NoWriteBack > 0 {
			back[1] += " (" + strconv.Itoa(f.NoWriteBack) + " never)"
		}
		rep := spread(recovery[k])
		errs := FormatAnswers(f.Errors)
		if errs == "" {
			errs = "-"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%d\t%s\n", k, f.Episodes, back[0], back[1], rep[0], rep[1], f.Retry, errs)
	}
	tw.Flush()
}

// spread is the median and the max of ds, "-" when there are none.
func spread(ds []time.Duration) [2]string {
	if len(ds) == 0 {
		return [2]string{"-", "-"}
	}
	d := slices.Clone(ds)
	slices.Sort(d)
	return [2]string{round(d[len(d)/2]), round(d[len(d)-1])}
}
