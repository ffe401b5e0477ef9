package agent

import (
	"encoding/json"
	"sort"
	"testing"
)

func listedOf(index uint64, items map[string]string) *listed {
	l := &listed{index: index, items: map[string]watchedItem{}}
	for k, rv := range items {
		l.keys = append(l.keys, k)
		l.items[k] = watchedItem{rv: rv, raw: json.RawMessage(`{"metadata":{"name":"` + k + `","resourceVersion":"` + rv + `"}}`)}
	}
	sort.Strings(l.keys)
	return l
}

func eventTypes(evs []pendingEvent) map[string]string {
	out := map[string]string{}
	for _, ev := range evs {
		var o jsonObj
		_ = json.Unmarshal(ev.raw, &o)
		out[o.str("metadata", "name")] = ev.typ + "@" + o.str("metadata", "resourceVersion")
	}
	return out
}

func TestDiffWatchSendsAddedModifiedDeleted(t *testing.T) {
	evs, seen := diffWatch(nil, listedOf(5, map[string]string{"a": "3", "b": "5"}), 0)
	if got := eventTypes(evs); len(got) != 2 || got["a"] != "ADDED@3" || got["b"] != "ADDED@5" {
		t.Fatalf("first events = %v", got)
	}
	evs, _ = diffWatch(seen, listedOf(9, map[string]string{"a": "3", "b": "8", "c": "9"}), 0)
	evs2, _ := diffWatch(listedOf(9, map[string]string{"a": "3", "b": "8", "c": "9"}).items, listedOf(12, map[string]string{"c": "9"}), 0)
	if got := eventTypes(evs); len(got) != 2 || got["b"] != "MODIFIED@8" || got["c"] != "ADDED@9" {
		t.Errorf("second events = %v", got)
	}
	if got := eventTypes(evs2); len(got) != 2 || got["a"] != "DELETED@12" || got["b"] != "DELETED@12" {
		t.Errorf("third events = %v", got)
	}
}

func TestDiffWatchFromAResourceVersionSendsOnlyNewerChanges(t *testing.T) {
	evs, _ := diffWatch(nil, listedOf(9, map[string]string{"a": "3", "b": "8"}), 5)
	if got := eventTypes(evs); len(got) != 1 || got["b"] != "MODIFIED@8" {
		t.Errorf("events = %v", got)
	}
	evs, _ = diffWatch(nil, listedOf(9, map[string]string{"a": "3", "b": "8"}), 9)
	if len(evs) != 0 {
		t.Errorf("events from the current version = %v", eventTypes(evs))
	}
}
