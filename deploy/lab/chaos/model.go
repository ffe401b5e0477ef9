package chaos

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// The history checker's model: every object of the key space is a
// versioned register (exists, value, resourceVersion), and the API's
// create, get, update with resourceVersion (compare-and-set) and delete
// must behave as if each took effect at one instant between its call and
// its answer (linearizability), whichever agent was asked.

// RegOp is one API call on one object.
type RegOp string

const (
	RegCreate RegOp = "create"
	RegGet    RegOp = "get"
	RegUpdate RegOp = "update" // PUT with metadata.resourceVersion: compare-and-set
	RegDelete RegOp = "delete"
)

// RegInput is what a client asked.
type RegInput struct {
	Op  RegOp
	Key string
	// Value is what create and update write (unique per write, so a read
	// tells which write it saw).
	Value string
	// RV is the resourceVersion an update is conditioned on.
	RV uint64
}

// RegResult is what an answer says.
type RegResult string

const (
	ResOK        RegResult = "ok"        // 2xx: Value and RV are the object's
	ResNotFound  RegResult = "notfound"  // 404
	ResExists    RegResult = "exists"    // 409 AlreadyExists on create
	ResConflict  RegResult = "conflict"  // 409 Conflict on update: resourceVersion mismatch
	ResAmbiguous RegResult = "ambiguous" // no answer, timeout, 5xx: may or may not have been applied
)

// RegOutput is the answer to a RegInput.
type RegOutput struct {
	Result RegResult
	Value  string
	RV     uint64
}

// regState is one object as the model holds it. RV is exact when RVKnown;
// after a write whose answer was lost, only a lower bound (the new
// resourceVersion is unknown until the next read shows it). RV survives a
// delete as the bound the next create must exceed: resourceVersions are
// Raft indexes, which only grow.
type regState struct {
	Exists  bool
	Value   string
	RV      uint64
	RVKnown bool
}

func (s regState) String() string {
	rv := fmt.Sprintf("rv=%d", s.RV)
	if !s.RVKnown {
		rv = fmt.Sprintf("rv>%d", s.RV)
	}
	if !s.Exists {
		return "absent (" + rv + ")"
	}
	return fmt.Sprintf("%q %s", s.Value, rv)
}

// rvAfter says whether rv can be a version newer than s's.
func (s regState) rvAfter(rv uint64) bool { return rv > s.RV }

// rvMatches says whether rv can be the current version of s.
func (s regState) rvMatches(rv uint64) bool {
	if s.RVKnown {
		return rv == s.RV
	}
	return rv > s.RV
}

// regStep is the sequential specification: the states s can move to when
// in is answered with out (none: the answer is impossible in state s).
// It follows shoal's API for Secrets, which is Kubernetes' with one
// difference noted at update.
func regStep(s regState, in RegInput, out RegOutput) []regState {
	if out.Result == ResAmbiguous {
		// Either it never took effect, or it did, as if answered ok.
		next := []regState{s}
		switch in.Op {
		case RegCreate:
			if !s.Exists {
				next = append(next, regState{Exists: true, Value: in.Value, RV: s.RV})
			}
		case RegUpdate:
			if !s.Exists || s.rvMatches(in.RV) {
				next = append(next, regState{Exists: true, Value: in.Value, RV: max(s.RV, in.RV)})
			}
		case RegDelete:
			if s.Exists {
				next = append(next, regState{RV: s.RV, RVKnown: s.RVKnown})
			}
		}
		return next
	}
	ok := func(v string) []regState {
		if out.Value != v || !s.rvAfter(out.RV) {
			return nil
		}
		return []regState{{Exists: true, Value: v, RV: out.RV, RVKnown: true}}
	}
	switch in.Op {
	case RegCreate:
		switch out.Result {
		case ResOK:
			if !s.Exists {
				return ok(in.Value)
			}
		case ResExists:
			if s.Exists {
				return []regState{s}
			}
		}
	case RegGet:
		switch out.Result {
		case ResOK:
			if s.Exists && out.Value == s.Value && s.rvMatches(out.RV) {
				return []regState{{Exists: true, Value: s.Value, RV: out.RV, RVKnown: true}}
			}
		case ResNotFound:
			if !s.Exists {
				return []regState{s}
			}
		}
	case RegUpdate:
		switch out.Result {
		case ResOK:
			// shoal creates the object when it does not exist, whatever
			// the resourceVersion; Kubernetes answers 404 for a Secret.
			if !s.Exists || s.rvMatches(in.RV) {
				return ok(in.Value)
			}
		case ResConflict:
			if s.Exists && (!s.RVKnown || in.RV != s.RV) {
				return []regState{s}
			}
		}
	case RegDelete:
		switch out.Result {
		case ResOK:
			if s.Exists {
				return []regState{{RV: s.RV, RVKnown: s.RVKnown}}
			}
		case ResNotFound:
			if !s.Exists {
				return []regState{s}
			}
		}
	}
	return nil
}

func describeRegOp(in RegInput, out RegOutput) string {
	var b strings.Builder
	b.WriteString(string(in.Op))
	switch in.Op {
	case RegCreate:
		fmt.Fprintf(&b, "(%q)", in.Value)
	case RegUpdate:
		fmt.Fprintf(&b, "(%q if rv=%d)", in.Value, in.RV)
	default:
		b.WriteString("()")
	}
	b.WriteString(" -> ")
	b.WriteString(string(out.Result))
	if out.Result == ResOK && in.Op != RegDelete {
		fmt.Fprintf(&b, " %q rv=%d", out.Value, out.RV)
	}
	return b.String()
}

// RegisterModel is the porcupine model of the key space: one register per
// key, checked independently (Partition by key).
var RegisterModel = porcupine.NondeterministicModel{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		for _, op := range h {
			k := op.Input.(RegInput).Key
			byKey[k] = append(byKey[k], op)
		}
		keys := make([]string, 0, len(byKey))
		for k := range byKey {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() []any { return []any{regState{RVKnown: true}} },
	Step: func(state, input, output any) []any {
		var out []any
		for _, s := range regStep(state.(regState), input.(RegInput), output.(RegOutput)) {
			out = append(out, s)
		}
		return out
	},
	Equal:             func(a, b any) bool { return a.(regState) == b.(regState) },
	DescribeOperation: func(in, out any) string { return describeRegOp(in.(RegInput), out.(RegOutput)) },
	DescribeState:     func(s any) string { return s.(regState).String() },
}

// Unanswered is the return time of an operation whose outcome is unknown:
// it may take effect at any point after its call, up to the end of the
// history, as porcupine expects.
const Unanswered = math.MaxInt64

// HistoryVerdict is the outcome of checking one history.
type HistoryVerdict struct {
	Result porcupine.CheckResult
	// Witness, when the history is not linearizable: for each key that
	// fails, the operations that show it (see explainIllegal).
	Witness []string
	info    porcupine.LinearizationInfo
}

// CheckHistory checks ops against RegisterModel within timeout (Unknown
// when it ran out).
func CheckHistory(ops []porcupine.Operation, timeout time.Duration) HistoryVerdict {
	res, info := porcupine.CheckOperationsVerbose(RegisterModel.ToModel(), ops, timeout)
	v := HistoryVerdict{Result: res, info: info}
	if res == porcupine.Illegal {
		v.Witness = explainIllegal(ops, info)
	}
	return v
}

// Visualize writes porcupine's HTML view of the check (every key, the
// longest partial linearizations of the failing ones) to path.
func (v HistoryVerdict) Visualize(path string) error {
	return porcupine.VisualizePath(RegisterModel.ToModel(), v.info, path)
}

// explainIllegal picks, for every key whose history cannot be linearized,
// the short story that shows it: the end of the longest legal order
// porcupine found (with the state it leaves) and the operations that
// could have come next, none of which the model accepts.
func explainIllegal(ops []porcupine.Operation, info porcupine.LinearizationInfo) []string {
	parts := RegisterModel.Partition(ops)
	lins := info.PartialLinearizationsOperations()
	var out []string
	for p, part := range parts {
		if p >= len(lins) || !partIllegal(part) {
			continue
		}
		var best []porcupine.Operation
		for _, l := range lins[p] {
			if len(l) > len(best) {
				best = l
			}
		}
		state := []regState{{RVKnown: true}}
		for _, op := range best {
			var next []regState
			for _, s := range state {
				next = append(next, regStep(s, op.Input.(RegInput), op.Output.(RegOutput))...)
			}
			state = next
		}
		done := map[porcupine.Operation]bool{}
		for _, op := range best {
			done[op] = true
		}
		// The candidates: every operation not yet placed that was called
		// before the first of them answered.
		var rest []porcupine.Operation
		first := int64(math.MaxInt64)
		for _, op := range part {
			if !done[op] {
				rest = append(rest, op)
				first = min(first, op.Return)
			}
		}
		key := part[0].Input.(RegInput).Key
		var b strings.Builder
		fmt.Fprintf(&b, "key %s: %d operations; a legal order exists for %d of them, then none fits.\n", key, len(part), len(best))
		from := max(0, len(best)-6)
		if from > 0 {
			fmt.Fprintf(&b, "    ... %d earlier operations\n", from)
		}
		for _, op := range best[from:] {
			b.WriteString("    " + formatOp(op) + "\n")
		}
		var states []string
		for _, s := range state {
			states = append(states, s.String())
		}
		fmt.Fprintf(&b, "  state then: %s; none of these can come next:\n", strings.Join(states, " or "))
		sort.Slice(rest, func(i, j int) bool { return rest[i].Call < rest[j].Call })
		for _, op := range rest {
			if op.Call <= first {
				b.WriteString("    " + formatOp(op) + "\n")
			}
		}
		out = append(out, b.String())
	}
	return out
}

func partIllegal(part []porcupine.Operation) bool {
	return porcupine.CheckOperationsTimeout(RegisterModel.ToModel(), part, 10*time.Second) == porcupine.Illegal
}

func formatOp(op porcupine.Operation) string {
	ret := "never answered"
	if op.Return != Unanswered {
		ret = time.Unix(0, op.Return).UTC().Format("15:04:05.000")
	}
	via := ""
	if m, ok := op.Metadata.(string); ok && m != "" {
		via = " via " + m
	}
	return fmt.Sprintf("client %d%s [%s .. %s] %s", op.ClientId, via,
		time.Unix(0, op.Call).UTC().Format("15:04:05.000"), ret, describeRegOp(op.Input.(RegInput), op.Output.(RegOutput)))
}
