package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anishathalye/porcupine"
)

// The history recorder: a few clients, each bound to a different agent,
// create, read, compare-and-set, delete and list a small set of Secrets
// while the faults go on, and log every call with its call and answer
// times. Secrets are plain versioned objects: no placement, no node side,
// their data a register. The recorder reads and writes raw JSON of its own
// shape, so it does not depend on how package api spells the kinds.

const (
	historyLabel = "lin-chaos"
	// historyKeys is the key space: small, so clients collide on it.
	historyKeys = 4
	// historyClients run at once, on as many different agents.
	historyClients = 4
)

// Recorder runs the clients and holds their history.
type Recorder struct {
	fl      *Fleet
	seed    uint64
	clients int
	keys    []string
	hc      *http.Client
	base    time.Time
	ids     atomic.Int64

	mu      sync.Mutex
	ops     []porcupine.Operation
	answers map[RegOp]map[string]int // op -> HTTP code or error class -> count
	calls   []Call
}

// NewRecorder prepares a recorder on fl's agents; seed drives the clients'
// choices.
func NewRecorder(fl *Fleet, seed uint64) *Recorder {
	r := &Recorder{
		fl: fl, seed: seed, clients: historyClients,
		// Above the agents' 15 s wait for a leader, so that an agent's
		// own 504 is seen when it comes.
		hc:      &http.Client{Timeout: 20 * time.Second},
		base:    time.Now(),
		answers: map[RegOp]map[string]int{},
	}
	for i := range historyKeys {
		r.keys = append(r.keys, fmt.Sprintf("lin-%d", i))
	}
	r.ids.Store(int64(r.clients))
	return r
}

// now is a monotonic timestamp in nanoseconds.
func (r *Recorder) now() int64 { return r.base.UnixNano() + int64(time.Since(r.base)) }

// Run drives the clients until ctx ends.
func (r *Recorder) Run(ctx context.Context) {
	nodes := r.fl.NodeNames()
	var wg sync.WaitGroup
	for i := range r.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.client(ctx, i, nodes[i%len(nodes)])
		}()
	}
	wg.Wait()
}

// Operations is the history so far.
func (r *Recorder) Operations() []porcupine.Operation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]porcupine.Operation(nil), r.ops...)
}

// Answers counts the answers by op and HTTP code (or "error" when none
// came).
func (r *Recorder) Answers() map[RegOp]map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[RegOp]map[string]int{}
	for op, m := range r.answers {
		out[op] = map[string]int{}
		for c, n := range m {
			out[op][c] = n
		}
	}
	return out
}

// Calls is every call the clients made, in the order they were answered.
func (r *Recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Call(nil), r.calls...)
}

func (r *Recorder) record(op RegOp, code string, call, ret int64, ops ...porcupine.Operation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.answers[op] == nil {
		r.answers[op] = map[string]int{}
	}
	r.answers[op][code]++
	r.ops = append(r.ops, ops...)
	r.calls = append(r.calls, Call{Op: op, Code: code, Call: time.Unix(0, call), Return: time.Unix(0, ret)})
}

// client is one client's loop: a random op on a random key, a short pause.
// It remembers the last resourceVersion it saw of each key, so its
// updates are compare-and-set on what it last read, sometimes stale.
func (r *Recorder) client(ctx context.Context, i int, node string) {
	rng := rand.New(rand.NewPCG(r.seed, uint64(i)+1))
	id := i
	seen := map[string]uint64{}
	for n := 0; ctx.Err() == nil; n++ {
		key := r.keys[rng.IntN(len(r.keys))]
		value := fmt.Sprintf("c%d-%d", i, n)
		var in RegInput
		switch p := rng.IntN(100); {
		case p < 15:
			in = RegInput{Op: RegCreate, Key: key, Value: value}
		case p < 45:
			in = RegInput{Op: RegGet, Key: key}
		case p < 75:
			if seen[key] == 0 {
				in = RegInput{Op: RegGet, Key: key}
			} else {
				in = RegInput{Op: RegUpdate, Key: key, Value: value, RV: seen[key]}
			}
		case p < 87:
			in = RegInput{Op: RegDelete, Key: key}
		default:
			outs, ok := r.list(ctx, id, node)
			for k, o := range outs {
				if o.Result == ResOK {
					seen[k] = o.RV
				}
			}
			r.pause(ctx, rng, ok)
			continue
		}
		out, ok := r.call(ctx, id, node, in)
		if ok && out.Result == ResOK {
			seen[key] = out.RV
		}
		if ok && out.Result == ResAmbiguous {
			// Its operation stays open to the end of the history: later
			// ones go under a new client id so none overlap on one row.
			id = int(r.ids.Add(1)) - 1
		}
		r.pause(ctx, rng, ok)
	}
}

// pause spaces a client's calls (about six a second), and longer after a
// call that told nothing: an agent that is down refuses at once, and
// asking it again at full speed only loads the machine.
func (r *Recorder) pause(ctx context.Context, rng *rand.Rand, told bool) {
	d := time.Duration(50+rng.IntN(200)) * time.Millisecond
	if !told {
		d += 500 * time.Millisecond
	}
	_ = sleep(ctx, d)
}

// secretBody is the JSON of a Secret as the recorder writes and reads it.
type secretBody struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
	Metadata   struct {
		Name            string            `json:"name"`
		Labels          map[string]string `json:"labels,omitempty"`
		ResourceVersion string            `json:"resourceVersion,omitempty"`
	} `json:"metadata"`
	Type string            `json:"type,omitempty"`
	Data map[string][]byte `json:"data,omitempty"`
}

func (r *Recorder) body(in RegInput) []byte {
	var s secretBody
	s.APIVersion, s.Kind, s.Type = "v1", "Secret", "Opaque"
	s.Metadata.Name, s.Metadata.Labels = in.Key, map[string]string{"app": historyLabel}
	if in.Op == RegUpdate {
		s.Metadata.ResourceVersion = strconv.FormatUint(in.RV, 10)
	}
	s.Data = map[string][]byte{"v": []byte(in.Value)}
	b, _ := json.Marshal(s)
	return b
}

func (s *secretBody) output() (RegOutput, error) {
	rv, err := strconv.ParseUint(s.Metadata.ResourceVersion, 10, 64)
	if err != nil {
		return RegOutput{}, fmt.Errorf("secret %s: resourceVersion %q: %w", s.Metadata.Name, s.Metadata.ResourceVersion, err)
	}
	return RegOutput{Result: ResOK, Value: string(s.Data["v"]), RV: rv}, nil
}

// answer is what came back for one call.
type answer struct {
	// code is the HTTP code as text, "unsent" when no connection was
	// made, "error" when one was but no answer came.
	code   string
	status int
	body   []byte
	// notWritten: the agent said it wrote nothing (notWrittenHeader).
	notWritten bool
}

// send makes one HTTP call.
func (r *Recorder) send(ctx context.Context, method, node, path string, body []byte) answer {
	u, err := r.fl.url(node, path)
	if err != nil {
		return answer{code: "error"}
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return answer{code: "error"}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := r.hc.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			// Never sent (a killed agent refuses, a cut-off one does not
			// answer the SYN): certainly not applied.
			return answer{code: "unsent"}
		}
		return answer{code: "error"}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 8<<20))
	if err != nil {
		// The status came, the body did not: the status still holds.
		b = nil
	}
	return answer{code: strconv.Itoa(res.StatusCode), status: res.StatusCode, body: b, notWritten: notWritten(res.Header)}
}

// call makes one single-object call and logs it; ok is false when the
// answer tells nothing (a read that failed, a write refused before it
// reached Raft) and nothing was logged in the history.
func (r *Recorder) call(ctx context.Context, id int, node string, in RegInput) (RegOutput, bool) {
	coll := "/api/v1/namespaces/" + Namespace + "/secrets"
	var method, path string
	var body []byte
	switch in.Op {
	case RegCreate:
		method, path, body = "POST", coll, r.body(in)
	case RegGet:
		method, path = "GET", coll+"/"+in.Key
	case RegUpdate:
		method, path, body = "PUT", coll+"/"+in.Key, r.body(in)
	case RegDelete:
		method, path = "DELETE", coll+"/"+in.Key
	}
	call := r.now()
	a := r.send(ctx, method, node, path, body)
	ret := r.now()
	code := a.code
	if ctx.Err() != nil && code == "error" {
		// The run ended under it: not an answer, and for a write an
		// outcome unknown.
		code = "cancelled"
	}
	out, known := classify(in.Op, a.status, a.body)
	op := porcupine.Operation{ClientId: id, Input: in, Call: call, Output: out, Return: ret, Metadata: node}
	switch {
	case known:
	case in.Op == RegGet || code == "unsent":
		r.record(in.Op, code, call, ret)
		return out, false
	case a.status != 0 && outcomeOf(&statusError{Code: a.status, Body: string(a.body), NotWritten: a.notWritten}) == Rejected:
		// Refused before it reached Raft (4xx, or a 5xx whose agent
		// said it wrote nothing): it changed nothing.
		r.record(in.Op, code, call, ret)
		return out, false
	default:
		out = RegOutput{Result: ResAmbiguous}
		op.Output, op.Return = out, Unanswered
	}
	r.record(in.Op, code, call, ret, op)
	return out, true
}

// classify turns an answer into the model's output; known is false when
// the answer proves nothing about the object.
func classify(op RegOp, status int, resp []byte) (RegOutput, bool) {
	switch {
	case status/100 == 2 && op == RegDelete:
		return RegOutput{Result: ResOK}, true
	case status/100 == 2:
		var s secretBody
		if err := json.Unmarshal(resp, &s); err != nil {
			return RegOutput{}, false
		}
		out, err := s.output()
		return out, err == nil
	case status == http.StatusNotFound && (op == RegGet || op == RegDelete):
		return RegOutput{Result: ResNotFound}, true
	case status == http.StatusConflict && op == RegCreate:
		return RegOutput{Result: ResExists}, true
	case status == http.StatusConflict && op == RegUpdate:
		return RegOutput{Result: ResConflict}, true
	}
	return RegOutput{}, false
}

// list reads every Secret of the key space in one call and logs it as one
// read per key, at the list's call and answer times (each key's read is
// checked; that the list is one snapshot across keys is not).
func (r *Recorder) list(ctx context.Context, id int, node string) (map[string]RegOutput, bool) {
	call := r.now()
	a := r.send(ctx, "GET", node, "/api/v1/namespaces/"+Namespace+"/secrets?labelSelector=app%3D"+historyLabel, nil)
	ret := r.now()
	code := a.code
	if a.status/100 != 2 {
		r.record("list", code, call, ret)
		return nil, false
	}
	var l struct {
		Items []secretBody `json:"items"`
	}
	if err := json.Unmarshal(a.body, &l); err != nil {
		r.record("list", "undecodable", call, ret)
		return nil, false
	}
	outs := map[string]RegOutput{}
	for _, it := range l.Items {
		o, err := it.output()
		if err != nil {
			r.record("list", "undecodable", call, ret)
			return nil, false
		}
		outs[it.Metadata.Name] = o
	}
	for _, k := range r.keys {
		if _, ok := outs[k]; !ok {
			outs[k] = RegOutput{Result: ResNotFound}
		}
	}
	r.record("list", code, call, ret, listOps(id, call, ret, r.keys, outs, node)...)
	return outs, true
}

// listOps turns one list answer into a read of each key.
func listOps(id int, call, ret int64, keys []string, outs map[string]RegOutput, node string) []porcupine.Operation {
	var ops []porcupine.Operation
	for _, k := range keys {
		ops = append(ops, porcupine.Operation{ClientId: id, Input: RegInput{Op: RegGet, Key: k}, Call: call,
			Output: outs[k], Return: ret, Metadata: node + " (list)"})
	}
	return ops
}

// FormatAnswers is the answers table's cell for one op: "201×12 409×3".
func FormatAnswers(m map[string]int) string {
	codes := make([]string, 0, len(m))
	for c := range m {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	var parts []string
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%s×%d", c, m[c]))
	}
	return strings.Join(parts, " ")
}
