package consensus

import (
	"time"

	"github.com/shoal-dev/shoal/api"
)

// ApplyEvent is an Event written through the API under its own name, as
// client-go's event recorders write them: Create refuses an existing name
// (POST); otherwise it replaces the stored event of that name (PUT, and
// the PATCH a recorder sends for a repeat), with a resourceVersion, when
// given, as its precondition. Unlike RecordEvents, which folds equal
// events that agents report, it stores what it is given.
type ApplyEvent struct {
	Event  api.Event `json:"event"`
	Create bool      `json:"create,omitempty"`
	UID    api.UID   `json:"uid"` // used only when the event is created
	Time   time.Time `json:"time"`
}

// DeleteEvent removes an Event; a non-empty UID must match the stored one.
type DeleteEvent struct {
	Namespace string  `json:"namespace"`
	Name      string  `json:"name"`
	UID       api.UID `json:"uid,omitempty"`
}

// Type implements Command.
func (ApplyEvent) Type() string { return "ApplyEvent" }

// Type implements Command.
func (DeleteEvent) Type() string { return "DeleteEvent" }

// find is the position of the event ns/name, or -1.
func (l *eventLog) find(ns, name string) int {
	if l == nil {
		return -1
	}
	for i, e := range l.Items {
		if e.ObjectMeta.Namespace == ns && e.ObjectMeta.Name == name {
			return i
		}
	}
	return -1
}

func copyEvent(e *api.Event) *api.Event {
	out := &api.Event{}
	mustRoundTrip(e, out)
	return out
}

func (s *state) applyEvent(index uint64, c *ApplyEvent) (*Result, error) {
	in := copyEvent(&c.Event)
	meta := &in.ObjectMeta
	ns, name := meta.Namespace, meta.Name
	var errs api.FieldErrors
	if name == "" {
		errs = append(errs, &api.FieldError{Path: "metadata.name", Detail: "required"})
	}
	if ns == "" {
		errs = append(errs, &api.FieldError{Path: "metadata.namespace", Detail: "required"})
	}
	if in.LastTimestamp.IsZero() && in.EventTime.IsZero() {
		in.LastTimestamp = api.TimeOf(c.Time) // what Kubernetes' defaulting leaves to the client, taken from the write
	}
	errs = append(errs, validateEvent(-1, in)...)
	if len(errs) > 0 {
		return nil, &InvalidError{Kind: "Event", Namespace: ns, Name: name, Fields: errs}
	}
	if in.Count < 1 {
		in.Count = 1
	}
	if in.FirstTimestamp.IsZero() {
		in.FirstTimestamp = in.LastTimestamp
	}
	in.APIVersion, in.Kind = "v1", "Event"
	if s.Events == nil {
		s.Events = &eventLog{}
	}
	l := s.Events
	i := l.find(ns, name)
	switch {
	case i >= 0 && c.Create:
		return nil, &AlreadyExistsError{Kind: "Event", Namespace: ns, Name: name}
	case i < 0:
		if c.UID == "" {
			return nil, &InvalidError{Kind: "Event", Namespace: ns, Name: name,
				Fields: api.FieldErrors{{Path: "metadata.uid", Detail: "required: the leader must choose the UID"}}}
		}
		meta.UID = c.UID
		meta.CreationTimestamp = api.TimeOf(c.Time)
		meta.DeletionTimestamp, meta.Generation = nil, 0
	default:
		om := l.Items[i].ObjectMeta
		if meta.UID != "" && meta.UID != om.UID {
			return nil, &ConflictError{Kind: "Event", Namespace: ns, Name: name,
				Reason: string("metadata.uid " + meta.UID + " does not match the stored object's " + om.UID)}
		}
		if v := meta.ResourceVersion; v != "" && v != om.ResourceVersion {
			return nil, &ConflictError{Kind: "Event", Namespace: ns, Name: name,
				Reason: "the object has been modified (resourceVersion " + v + ", now " + om.ResourceVersion + "); read it again and retry"}
		}
		meta.UID, meta.CreationTimestamp = om.UID, om.CreationTimestamp
		l.Items = append(l.Items[:i:i], l.Items[i+1:]...) // most recently updated goes last
	}
	meta.ResourceVersion = rv(index)
	l.Items = append(l.Items, in)
	l.evict(objectKey(in))
	s.touch(KindEvent, "") // the log is diffed: changes.go
	return &Result{Index: index, Event: copyEvent(in), Changed: true, Created: i < 0}, nil
}

func (s *state) deleteEvent(index uint64, c *DeleteEvent) (*Result, error) {
	i := s.Events.find(c.Namespace, c.Name)
	if i < 0 {
		return nil, &NotFoundError{Kind: "Event", Namespace: c.Namespace, Name: c.Name}
	}
	old := s.Events.Items[i]
	if c.UID != "" && c.UID != old.ObjectMeta.UID {
		return nil, &ConflictError{Kind: "Event", Namespace: c.Namespace, Name: c.Name,
			Reason: string("precondition failed: uid " + c.UID + ", stored object has " + old.ObjectMeta.UID)}
	}
	s.Events.Items = append(s.Events.Items[:i:i], s.Events.Items[i+1:]...)
	s.touch(KindEvent, "")
	return &Result{Index: index, Event: copyEvent(old), Changed: true}, nil
}

// Event returns a copy of one Event.
func (f *FSM) Event(namespace, name string) (*api.Event, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	i := f.st.Events.find(namespace, name)
	if i < 0 {
		return nil, &NotFoundError{Kind: "Event", Namespace: namespace, Name: name}
	}
	return copyEvent(f.st.Events.Items[i]), nil
}
