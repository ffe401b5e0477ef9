package consensus

import (
	"fmt"
	"strconv"

	"github.com/shoal-dev/shoal/api"
)

// RecordEvents stores what happened to objects, as reported by the leader
// (Scheduled, FailedScheduling) and by node agents in batches. An event
// equal to a stored one (same object, type, reason, message and source)
// raises its count and last timestamp instead of adding a new one.
type RecordEvents struct {
	Events []api.Event `json:"events"`
}

// Type implements Command.
func (RecordEvents) Type() string { return "RecordEvents" }

// The state keeps a bounded number of events, per object and fleet-wide;
// the least recently updated go first, which every server decides alike
// because the order is the order of the log.
const (
	MaxEventsPerObject = 64
	MaxEvents          = 2048
)

// eventLog holds the events, least recently updated first.
type eventLog struct {
	Items []*api.Event `json:"items"`
}

func eventKey(e *api.Event) string {
	obj := string(e.InvolvedObject.UID)
	if obj == "" {
		obj = e.InvolvedObject.Kind + "/" + e.InvolvedObject.Namespace + "/" + e.InvolvedObject.Name
	}
	return obj + "\x00" + e.Type + "\x00" + e.Reason + "\x00" + e.Message + "\x00" + e.Source.Component + "\x00" + e.Source.Host
}

func objectKey(e *api.Event) string {
	if e.InvolvedObject.UID != "" {
		return string(e.InvolvedObject.UID)
	}
	return e.InvolvedObject.Kind + "/" + e.InvolvedObject.Namespace + "/" + e.InvolvedObject.Name
}

// validateEvent checks the i-th event of a batch, or with i < 0 one event
// on its own (ApplyEvent), whose paths start at the event.
func validateEvent(i int, e *api.Event) api.FieldErrors {
	var errs api.FieldErrors
	p := fmt.Sprintf("events[%d].", i)
	if i < 0 {
		p = ""
	}
	if e.InvolvedObject.Kind == "" || e.InvolvedObject.Name == "" {
		errs = append(errs, &api.FieldError{Path: p + "involvedObject", Detail: "kind and name are required"})
	}
	if e.Reason == "" {
		errs = append(errs, &api.FieldError{Path: p + "reason", Detail: "required"})
	}
	if e.Type != api.EventNormal && e.Type != api.EventWarning {
		errs = append(errs, &api.FieldError{Path: p + "type", Value: e.Type, Detail: "must be Normal or Warning"})
	}
	if e.LastTimestamp.IsZero() {
		errs = append(errs, &api.FieldError{Path: p + "lastTimestamp", Detail: "required"})
	}
	return errs
}

func (s *state) recordEvents(index uint64, c *RecordEvents) (*Result, error) {
	var errs api.FieldErrors
	for i := range c.Events {
		errs = append(errs, validateEvent(i, &c.Events[i])...)
	}
	if len(errs) > 0 {
		return nil, &InvalidError{Kind: "Event", Fields: errs}
	}
	if s.Events == nil {
		s.Events = &eventLog{}
	}
	for i := range c.Events {
		s.Events.record(index, i, c.Events[i])
	}
	s.touch(KindEvent, "") // every event: changes.go
	return &Result{Index: index, Changed: true}, nil
}

// record folds e into an equal stored event or appends it, then evicts.
func (l *eventLog) record(index uint64, i int, e api.Event) {
	key := eventKey(&e)
	count := e.Count
	if count < 1 {
		count = 1
	}
	for j, old := range l.Items {
		if !hasEventKey(old, key) { // events_key.go
			continue
		}
		old.Count += count
		if !e.LastTimestamp.IsZero() && (old.LastTimestamp.IsZero() || e.LastTimestamp.After(old.LastTimestamp.Time)) {
			old.LastTimestamp = e.LastTimestamp
		}
		old.ObjectMeta.ResourceVersion = rv(index)
		// Most recently updated goes last.
		l.Items = append(append(l.Items[:j:j], l.Items[j+1:]...), old)
		return
	}
	ev := e
	ev.APIVersion, ev.Kind = "v1", "Event"
	ev.Count = count
	if ev.FirstTimestamp.IsZero() {
		ev.FirstTimestamp = ev.LastTimestamp
	}
	ns := ev.InvolvedObject.Namespace
	if ns == "" {
		ns = "default"
	}
	id := strconv.FormatUint(index, 16) + strconv.Itoa(i)
	ev.ObjectMeta = api.ObjectMeta{
		Name:              ev.InvolvedObject.Name + "." + id,
		Namespace:         ns,
		UID:               api.UID(fmt.Sprintf("event-%d-%d", index, i)),
		ResourceVersion:   rv(index),
		CreationTimestamp: ev.FirstTimestamp,
	}
	l.Items = append(l.Items, &ev)
	l.evict(objectKey(&ev))
}

// evict drops the oldest events of obj past MaxEventsPerObject, then the
// oldest events of all past MaxEvents.
func (l *eventLog) evict(obj string) {
	n := 0
	for _, e := range l.Items {
		if objectKey(e) == obj {
			n++
		}
	}
	for j := 0; n > MaxEventsPerObject && j < len(l.Items); {
		if objectKey(l.Items[j]) == obj {
			l.Items = append(l.Items[:j], l.Items[j+1:]...)
			n--
			continue
		}
		j++
	}
	if over := len(l.Items) - MaxEvents; over > 0 {
		l.Items = append([]*api.Event{}, l.Items[over:]...)
	}
}

// Events returns copies of the events filter accepts (all when nil), least
// recently updated first, and the index they were read at.
func (f *FSM) Events(filter func(*api.Event) bool) ([]*api.Event, uint64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []*api.Event
	if f.st.Events == nil {
		return out, f.st.Index
	}
	for _, e := range f.st.Events.Items {
		if filter == nil || filter(e) {
			c := &api.Event{}
			mustRoundTrip(e, c)
			out = append(out, c)
		}
	}
	return out, f.st.Index
}
