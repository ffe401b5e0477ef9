package consensus

import (
	"testing"

	"github.com/shoal-dev/shoal/api"
)

// hasEventKey answers exactly as comparing eventKey's strings, also for
// events whose fields hold the separator or differ only in where one
// field ends and the next begins.
func TestHasEventKeyIsTheKeysEquality(t *testing.T) {
	ev := func(uid, name, typ, reason, msg, comp, host string) *api.Event {
		return &api.Event{InvolvedObject: api.ObjectReference{Kind: "Pod", Namespace: "default", Name: name, UID: api.UID(uid)},
			Type: typ, Reason: reason, Message: msg, Source: api.EventSource{Component: comp, Host: host}}
	}
	events := []*api.Event{
		ev("u1", "a", "Normal", "Scheduled", "to n1", "sched", ""),
		ev("u1", "a", "Normal", "Scheduled", "to n2", "sched", ""),
		ev("u2", "a", "Normal", "Scheduled", "to n1", "sched", ""),
		ev("", "a", "Normal", "Scheduled", "to n1", "sched", ""),
		ev("", "b", "Normal", "Scheduled", "to n1", "sched", ""),
		ev("Pod/default/a", "x", "Normal", "Scheduled", "to n1", "sched", ""),
		ev("u1", "a", "Normal", "Sched", "uled\x00to n1", "sched", ""),
		ev("u1", "a", "Normal", "Scheduled\x00to", "n1", "sched", ""),
		ev("u1", "a", "Normal", "Scheduled", "to n1", "sched", "h"),
		ev("u1", "a", "Normal", "Scheduled", "to n1", "sched\x00", ""),
		ev("u1", "a", "Normal", "Scheduled", "to n1", "", ""),
		ev("", "", "", "", "", "", ""),
	}
	for i, a := range events {
		for j, b := range events {
			want := eventKey(a) == eventKey(b)
			if got := hasEventKey(a, eventKey(b)); got != want {
				t.Errorf("events %d and %d: hasEventKey %v, keys equal %v", i, j, got, want)
			}
		}
	}
}
