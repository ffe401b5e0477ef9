package chaos

import (
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// h builds a history operation on key "k": call and ret in ticks.
func h(client int, call, ret int64, in RegInput, out RegOutput) porcupine.Operation {
	if in.Key == "" {
		in.Key = "k"
	}
	return porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret}
}

var (
	create = func(v string) RegInput { return RegInput{Op: RegCreate, Value: v} }
	get    = RegInput{Op: RegGet}
	update = func(v string, rv uint64) RegInput { return RegInput{Op: RegUpdate, Value: v, RV: rv} }
	del    = RegInput{Op: RegDelete}
	okv    = func(v string, rv uint64) RegOutput { return RegOutput{Result: ResOK, Value: v, RV: rv} }
	okDel  = RegOutput{Result: ResOK}
	res    = func(r RegResult) RegOutput { return RegOutput{Result: r} }
)

func TestHistoryCheckerAcceptsLinearizableHistories(t *testing.T) {
	cases := map[string][]porcupine.Operation{
		"sequential create, read, CAS, conflict, delete": {
			h(0, 0, 1, create("a"), okv("a", 5)),
			h(1, 2, 3, get, okv("a", 5)),
			h(0, 4, 5, update("b", 5), okv("b", 7)),
			h(1, 6, 7, update("c", 5), res(ResConflict)),
			h(1, 8, 9, create("d"), res(ResExists)),
			h(0, 10, 11, del, okDel),
			h(1, 12, 13, get, res(ResNotFound)),
			h(1, 14, 15, del, res(ResNotFound)),
			h(0, 16, 17, create("e"), okv("e", 12)),
		},
		"a read overlapping a write may see either side": {
			h(0, 0, 1, create("a"), okv("a", 5)),
			h(0, 2, 10, update("b", 5), okv("b", 6)),
			h(1, 3, 4, get, okv("a", 5)),
			h(2, 5, 6, get, okv("b", 6)),
		},
		"an unanswered update that did land is seen later, its version learnt from the read": {
			h(0, 0, 1, create("a"), okv("a", 5)),
			h(0, 2, Unanswered, update("b", 5), res(ResAmbiguous)),
			h(1, 3, 4, get, okv("b", 9)),
			h(1, 5, 6, update("c", 9), okv("c", 11)),
		},
		"an unanswered create that never landed": {
			h(0, 0, Unanswered, create("a"), res(ResAmbiguous)),
			h(1, 3, 4, get, res(ResNotFound)),
			h(1, 5, 6, create("b"), okv("b", 3)),
			h(1, 7, 8, get, okv("b", 3)),
		},
		"an update of a deleted object creates it (shoal's PUT)": {
			h(0, 0, 1, create("a"), okv("a", 5)),
			h(1, 2, 3, del, okDel),
			h(0, 4, 5, update("b", 5), okv("b", 8)),
		},
	}
	for name, hist := range cases {
		t.Run(name, func(t *testing.T) {
			if v := CheckHistory(hist, 10*time.Second); v.Result != porcupine.Ok {
				t.Fatalf("got %s, want Ok; witness:\n%s", v.Result, strings.Join(v.Witness, "\n"))
			}
		})
	}
}

func TestHistoryCheckerFindsViolations(t *testing.T) {
	cases := map[string][]porcupine.Operation{
		"stale read after an acknowledged update": {
			h(0, 0, 1, create("a"), okv("a", 5)),
			h(0, 2, 3, update("b", 5), okv("b", 6)),
			h(1, 4, 5, get, okv("a", 5)),
		},
		"stale read of a deleted object": {
			h(0, 0, 1, create("a"), okv("a", 5)),
			h(0, 2, 3, del, okDel),
			h(1, 4, 5, get, okv("a", 5)),
		},
		"lost update: an acknowledged write overwritten by a CAS on the old version": {
			h(0, 0, 1, create("a"), okv("a", 5)),
			h(0, 2, 3, update("b", 5), okv("b", 6)),
			h(1, 4, 5, update("c", 5), okv("c", 7)),
		},
		"CAS succeeding twice on the same version, concurrently": {
			h(0, 0, 1, create("a"), okv("a", 5)),
			h(0, 2, 6, update("b", 5), okv("b", 6)),
			h(1, 3, 7, update("c", 5), okv("c", 7)),
		},
		"create acknowledged twice": {
			h(0, 0, 2, create("a"), okv("a", 5)),
			h(1, 1, 3, create("b"), okv("b", 6)),
		},
		"resourceVersion going backwards": {
			h(0, 0, 1, create("a"), okv("a", 5)),
			h(0, 2, 3, update("b", 5), okv("b", 4)),
		},
		"a read sees a value nobody wrote": {
			h(0, 0, 1, create("a"), okv("a", 5)),
			h(1, 2, 3, get, okv("z", 5)),
		},
		"conflict although the version matched": {
			h(0, 0, 1, create("a"), okv("a", 5)),
			h(1, 2, 3, update("b", 5), res(ResConflict)),
		},
		"an unanswered create seen, then gone without a delete": {
			h(0, 0, Unanswered, create("a"), res(ResAmbiguous)),
			h(1, 1, 2, get, okv("a", 4)),
			h(1, 3, 4, get, res(ResNotFound)),
		},
	}
	for name, hist := range cases {
		t.Run(name, func(t *testing.T) {
			v := CheckHistory(hist, 10*time.Second)
			if v.Result != porcupine.Illegal {
				t.Fatalf("got %s, want Illegal", v.Result)
			}
			if len(v.Witness) != 1 || !strings.Contains(v.Witness[0], "key k:") {
				t.Fatalf("witness should name key k once, got %q", v.Witness)
			}
		})
	}
}

// Keys are checked apart: a violation on one is named alone, and a list
// split into per-key reads joins each key's history.
func TestHistoryCheckerNamesTheFailingKey(t *testing.T) {
	hist := []porcupine.Operation{
		h(0, 0, 1, RegInput{Op: RegCreate, Key: "x", Value: "a"}, okv("a", 5)),
		h(0, 2, 3, RegInput{Op: RegCreate, Key: "y", Value: "b"}, okv("b", 6)),
		h(0, 4, 5, RegInput{Op: RegDelete, Key: "y"}, okDel),
	}
	hist = append(hist, listOps(1, 6, 7, []string{"x", "y"}, map[string]RegOutput{"x": okv("a", 5), "y": okv("b", 6)}, "n2")...)
	v := CheckHistory(hist, 10*time.Second)
	if v.Result != porcupine.Illegal || len(v.Witness) != 1 || !strings.Contains(v.Witness[0], "key y:") {
		t.Fatalf("got %s %q, want Illegal on key y only", v.Result, v.Witness)
	}
	t.Logf("witness:\n%s", v.Witness[0])
	if !strings.Contains(v.Witness[0], `get() -> ok "b" rv=6`) {
		t.Errorf("witness should show the stale read:\n%s", v.Witness[0])
	}
}

// What each answer proves: 2xx and the model's refusals are outcomes;
// anything else from a write is either a refusal before Raft (left out) or
// unknown (open to the end of the history).
func TestClassifyAnswers(t *testing.T) {
	secret := []byte(`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"lin-0","resourceVersion":"42"},"type":"Opaque","data":{"v":"YzEtNw=="}}`)
	cases := []struct {
		op     RegOp
		status int
		body   []byte
		want   RegOutput
		known  bool
	}{
		{RegCreate, 201, secret, okv("c1-7", 42), true},
		{RegUpdate, 200, secret, okv("c1-7", 42), true},
		{RegGet, 200, secret, okv("c1-7", 42), true},
		{RegDelete, 200, secret, okDel, true},
		{RegGet, 404, nil, res(ResNotFound), true},
		{RegDelete, 404, nil, res(ResNotFound), true},
		{RegCreate, 409, nil, res(ResExists), true},
		{RegUpdate, 409, nil, res(ResConflict), true},
		{RegUpdate, 200, []byte(`{"metadata":{"resourceVersion":"x"}}`), RegOutput{}, false},
		{RegUpdate, 504, nil, RegOutput{}, false},
		{RegCreate, 503, nil, RegOutput{}, false},
	}
	for _, c := range cases {
		got, known := classify(c.op, c.status, c.body)
		if got != c.want || known != c.known {
			t.Errorf("%s answered %d: got %+v known=%v, want %+v known=%v", c.op, c.status, got, known, c.want, c.known)
		}
	}
}
