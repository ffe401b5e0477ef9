package consensus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/shoal-dev/shoal/api"
)

// The change stream: every object an applied command stores or removes
// becomes one Change (kind, object before and after, the Raft index), in
// the order of the log. Watches read it instead of listing the state
// again, the way Kubernetes' watch cache (k8s.io/apiserver's
// storage/cacher) serves them: per kind a ring of recent changes answers
// "everything after resourceVersion N", or ExpiredError once N has left
// the window; the current objects answer a watch that starts with them.
// Publishing costs one encoding of the changed object plus one
// non-blocking channel send per watcher of its kind, however many objects
// are stored; a watcher too slow to keep its buffer from filling is
// dropped (its channel closed) rather than ever holding up Apply.

// Kinds the stream carries, with the key each is stored under.
const (
	KindPod                   = "Pod"                   // namespace/name
	KindNode                  = "Node"                  // name
	KindReplicationController = "ReplicationController" // namespace/name
	KindReplicaSet            = "ReplicaSet"            // namespace/name
	KindDeployment            = "Deployment"            // namespace/name
	KindSecret                = "Secret"                // namespace/name
	KindDaemonSet             = "DaemonSet"             // namespace/name
	KindControllerRevision    = "ControllerRevision"    // namespace/name
	KindEvent                 = "Event"                 // namespace/name
	KindService               = "Service"               // namespace/name
	KindEndpoints             = "Endpoints"             // namespace/name
	KindEndpointSlice         = "EndpointSlice"         // namespace/name
	KindNamespace             = "Namespace"             // name
)

// Defaults of a ChangeStream.
const (
	// DefaultChangeWindow is how many recent changes of each kind a
	// watch from an older resourceVersion can be answered from.
	DefaultChangeWindow = 1024
	// DefaultWatcherBuffer is how many changes a watcher may fall behind
	// before it is dropped.
	DefaultWatcherBuffer = 1024
)

// Change is one object created, changed or removed by an applied command.
type Change struct {
	Kind  string
	Key   string // namespace/name, or name for cluster-scoped kinds
	Index uint64 // the Raft index that applied it: the event's resourceVersion
	// Object is the object's JSON after the command (kind and apiVersion
	// set); nil when the command removed it.
	Object json.RawMessage
	// Prev is its JSON before the command; nil when the command created it.
	Prev json.RawMessage

	// Selector attributes and the deleted form, worked out at most once
	// however many watchers ask.
	objOnce, prevOnce, goneOnce sync.Once
	objAttrs, prevAttrs         *Attrs
	gone                        json.RawMessage
}

// Namespace is the object's namespace, read from its key.
func (c *Change) Namespace() string {
	ns, _, ok := strings.Cut(c.Key, "/")
	if !ok {
		return ""
	}
	return ns
}

// Attrs is what label and field selectors look at: the labels, and every
// string field up to two levels deep by its path ("type",
// "metadata.name", "spec.nodeName", "status.phase", "involvedObject.uid").
type Attrs struct {
	Labels map[string]string
	Fields map[string]string
}

// ObjectAttrs are the attributes of Object (nil when removed).
func (c *Change) ObjectAttrs() *Attrs {
	c.objOnce.Do(func() { c.objAttrs = attrsOf(c.Object) })
	return c.objAttrs
}

// PrevAttrs are the attributes of Prev (nil when created).
func (c *Change) PrevAttrs() *Attrs {
	c.prevOnce.Do(func() { c.prevAttrs = attrsOf(c.Prev) })
	return c.prevAttrs
}

// Gone is what a DELETED event carries: the object as it was last seen
// (Prev), with the resourceVersion of this change, as Kubernetes sends it
// both when the object is removed and when it stops matching a watcher's
// selector.
func (c *Change) Gone() json.RawMessage {
	c.goneOnce.Do(func() { c.gone = withResourceVersion(c.Prev, c.Index) })
	return c.gone
}

func attrsOf(raw json.RawMessage) *Attrs {
	if raw == nil {
		return nil
	}
	var o map[string]any
	if json.Unmarshal(raw, &o) != nil {
		return &Attrs{}
	}
	a := &Attrs{Labels: map[string]string{}, Fields: map[string]string{}}
	for k, v := range o {
		switch v := v.(type) {
		case string:
			a.Fields[k] = v
		case map[string]any:
			for k2, v2 := range v {
				if s, ok := v2.(string); ok {
					a.Fields[k+"."+k2] = s
				}
			}
		}
	}
	if md, ok := o["metadata"].(map[string]any); ok {
		if ls, ok := md["labels"].(map[string]any); ok {
			for k, v := range ls {
				if s, ok := v.(string); ok {
					a.Labels[k] = s
				}
			}
		}
	}
	return a
}

// withResourceVersion sets metadata.resourceVersion of an object's JSON.
func withResourceVersion(raw json.RawMessage, index uint64) json.RawMessage {
	var o map[string]any
	if raw == nil || json.Unmarshal(raw, &o) != nil {
		return raw
	}
	md, _ := o["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
		o["metadata"] = md
	}
	md["resourceVersion"] = strconv.FormatUint(index, 10)
	out, err := json.Marshal(o)
	if err != nil {
		return raw
	}
	return out
}

// ExpiredError is a watch from a resourceVersion older than the window of
// changes kept: the client lists again (HTTP 410, reason Expired).
type ExpiredError struct {
	Kind      string
	Requested uint64
	// Oldest is the oldest resourceVersion a watch can start from.
	Oldest uint64
}

func (e *ExpiredError) Error() string {
	// Kubernetes' own words, which reflectors recognise.
	return fmt.Sprintf("too old resource version: %d (%d)", e.Requested, e.Oldest)
}

// ChangeStream fans applied changes out to watchers. The FSM publishes to
// it under its own lock; watchers subscribe and read from any goroutine.
type ChangeStream struct {
	mu sync.Mutex
	// index is the last applied index published: every change at or
	// below it is in the rings and the watchers' channels.
	index uint64
	// base is the index of the state the stream started from (0, or a
	// restored snapshot): nothing before it is known.
	base   uint64
	kinds  map[string]*kindStream
	window int
	buffer int
}

// kindStream is one kind's part of the stream: the watch cache.
type kindStream struct {
	// ring holds the last changes, oldest first from head.
	ring []*Change
	head int
	// floor is the index of the newest change that left the ring (or
	// the stream's base): a watch from below it may have missed changes.
	floor uint64
	// store is every current object's JSON by key: the Prev of the
	// next change, and what a watch that starts with the current
	// objects gets.
	store map[string]json.RawMessage
	subs  map[*Subscription]struct{}
}

// NewChangeStream returns an empty stream keeping window changes per kind
// and dropping a watcher that falls buffer changes behind (defaults when
// zero or less).
func NewChangeStream(window, buffer int) *ChangeStream {
	if window <= 0 {
		window = DefaultChangeWindow
	}
	if buffer <= 0 {
		buffer = DefaultWatcherBuffer
	}
	return &ChangeStream{kinds: map[string]*kindStream{}, window: window, buffer: buffer}
}

func (cs *ChangeStream) kind(kind string) *kindStream {
	ks, ok := cs.kinds[kind]
	if !ok {
		ks = &kindStream{floor: cs.base, store: map[string]json.RawMessage{}, subs: map[*Subscription]struct{}{}}
		cs.kinds[kind] = ks
	}
	return ks
}

// Subscription is one watcher of one kind.
type Subscription struct {
	// C delivers the changes after Index, in order. It is closed when the
	// stream drops the watcher (it fell behind, or the state was replaced
	// by a snapshot): the client watches again.
	C <-chan *Change
	// Index is the position the subscription starts from: Initial is the
	// state at Index, and C brings what comes after Replay.
	Index uint64
	// Initial is, when asked for, every current object as a Change
	// without Prev, ordered by key.
	Initial []*Change
	// Replay is the kept changes after the requested resourceVersion.
	Replay []*Change

	ch   chan *Change
	kind string
	cs   *ChangeStream
}

// Subscribe starts a watcher of kind. With initial it gets the current
// objects and the changes after them; otherwise the changes after index
// after, or an ExpiredError when they are no longer all kept.
func (cs *ChangeStream) Subscribe(kind string, after uint64, initial bool) (*Subscription, error) {
	if !IsStreamedKind(kind) {
		return nil, fmt.Errorf("no change stream for kind %q", kind)
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	ks := cs.kind(kind)
	ch := make(chan *Change, cs.buffer)
	s := &Subscription{C: ch, ch: ch, kind: kind, cs: cs, Index: cs.index}
	if initial {
		keys := make([]string, 0, len(ks.store))
		for k := range ks.store {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		s.Initial = make([]*Change, 0, len(keys))
		for _, k := range keys {
			s.Initial = append(s.Initial, &Change{Kind: kind, Key: k, Index: cs.index, Object: ks.store[k]})
		}
	} else {
		if after < ks.floor {
			return nil, &ExpiredError{Kind: kind, Requested: after, Oldest: ks.floor}
		}
		for i := range ks.ring {
			if c := ks.ring[(ks.head+i)%len(ks.ring)]; c.Index > after {
				s.Replay = append(s.Replay, c)
			}
		}
		if after > s.Index {
			s.Index = after
		}
	}
	ks.subs[s] = struct{}{}
	return s, nil
}

// Close ends the subscription; C is closed if it was not already.
func (s *Subscription) Close() {
	s.cs.mu.Lock()
	defer s.cs.mu.Unlock()
	s.cs.dropLocked(s.cs.kinds[s.kind], s)
}

// Position is the last index published and how many changes wait in C:
// with none waiting, the watcher has seen everything up to index, so a
// bookmark may say so.
func (s *Subscription) Position() (index uint64, pending int) {
	s.cs.mu.Lock()
	defer s.cs.mu.Unlock()
	return s.cs.index, len(s.ch)
}

func (cs *ChangeStream) dropLocked(ks *kindStream, s *Subscription) {
	if ks == nil {
		return
	}
	if _, ok := ks.subs[s]; ok {
		delete(ks.subs, s)
		close(s.ch)
	}
}

// publish adds the changes applied at index and hands each to the
// watchers of its kind. It never blocks.
func (cs *ChangeStream) publish(index uint64, changes []*Change) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for _, c := range changes {
		ks := cs.kind(c.Kind)
		c.Prev = ks.store[c.Key]
		if c.Object == nil && c.Prev == nil {
			continue // removed before anyone saw it: no news
		}
		if c.Object == nil {
			delete(ks.store, c.Key)
		} else {
			ks.store[c.Key] = c.Object
		}
		if len(ks.ring) < cs.window {
			ks.ring = append(ks.ring, c)
		} else {
			ks.floor = ks.ring[ks.head].Index
			ks.ring[ks.head] = c
			ks.head = (ks.head + 1) % len(ks.ring)
		}
		for s := range ks.subs {
			select {
			case s.ch <- c:
			default:
				// Too far behind: Kubernetes' watch cache closes such a
				// watcher too, and the client starts a new watch.
				cs.dropLocked(ks, s)
			}
		}
	}
	if index > cs.index {
		cs.index = index
	}
}

// reset starts the stream again from a whole new state (a restored
// snapshot): what changed in between is unknown, so every watcher is
// dropped, and a watch from before index is Expired.
func (cs *ChangeStream) reset(index uint64, objects []*Change) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for _, ks := range cs.kinds {
		for s := range ks.subs {
			cs.dropLocked(ks, s)
		}
	}
	cs.base, cs.index = index, index
	cs.kinds = map[string]*kindStream{}
	for _, c := range objects {
		cs.kind(c.Kind).store[c.Key] = c.Object
	}
}

// IsStreamedKind tells whether the change stream carries kind.
func IsStreamedKind(kind string) bool {
	switch kind {
	case KindPod, KindNode, KindReplicationController, KindReplicaSet, KindDeployment, KindSecret, KindEvent,
		KindService, KindEndpoints, KindEndpointSlice,
		KindJob, KindCronJob, KindNamespace:
		return true
	case KindDaemonSet, KindControllerRevision:
		return true
	case KindConfigMap:
		return true
	case KindLease:
		return true
	case KindServiceAccount:
		return true
	}
	return false
}

func apiVersionOf(kind string) string {
	switch kind {
	case KindReplicaSet, KindDeployment:
		return api.AppsV1
	case KindDaemonSet, KindControllerRevision:
		return api.AppsV1
	case KindEndpointSlice:
		return api.DiscoveryV1
	case KindJob, KindCronJob:
		return api.BatchV1
	case KindLease:
		return api.CoordinationV1
	}
	return api.V1
}

// touch records, during Apply, that the command stored or removed the
// object of kind under key; FSM.publishLocked turns the record into
// Changes once the command is applied.
type touch struct{ kind, key string }

func (s *state) touch(kind, key string) { s.touched = append(s.touched, touch{kind, key}) }

// publishLocked hands what the command applied at index touched to the
// change stream. The caller holds f.mu for writing.
func (f *FSM) publishLocked(index uint64) {
	touched := f.st.touched
	f.st.touched = nil
	var changes []*Change
	seen := map[touch]bool{}
	for _, t := range touched {
		if seen[t] {
			continue
		}
		seen[t] = true
		if t.kind == KindEvent && t.key == "" {
			changes = append(changes, f.eventChanges(index)...)
			continue
		}
		obj, err := encodeObject(t.kind, f.st.object(t.kind, t.key))
		if err != nil {
			// Stored objects came from JSON; this is unreachable unless
			// api types stop round-tripping, which breaks snapshots first.
			panic(fmt.Sprintf("consensus: change stream: %v", err))
		}
		changes = append(changes, &Change{Kind: t.kind, Key: t.key, Index: index, Object: obj})
	}
	f.changes.publish(index, changes)
}

// object is the stored object of kind under key, nil when there is none.
func (s *state) object(kind, key string) any {
	var (
		obj any
		ok  bool
	)
	switch kind {
	case KindPod:
		obj, ok = s.Pods[key]
	case KindNode:
		obj, ok = s.Nodes[key]
	case KindReplicationController:
		obj, ok = s.RCs[key]
	case KindReplicaSet:
		obj, ok = s.ReplicaSets[key]
	case KindDeployment:
		obj, ok = s.Deployments[key]
	case KindSecret:
		obj, ok = s.Secrets[key]
	case KindDaemonSet:
		obj, ok = s.DaemonSets[key]
	case KindControllerRevision:
		obj, ok = s.ControllerRevisions[key]
	case KindConfigMap:
		obj, ok = s.ConfigMaps[key]
	case KindServiceAccount:
		obj, ok = s.ServiceAccounts[key]
	case KindService:
		obj, ok = s.Services[key]
	case KindEndpoints:
		obj, ok = s.Endpoints[key]
	case KindEndpointSlice:
		obj, ok = s.EndpointSlices[key]
	case KindNamespace:
		obj, ok = s.Namespaces[key]
	case KindJob:
		obj, ok = s.Jobs[key]
	case KindCronJob:
		obj, ok = s.CronJobs[key]
	case KindLease:
		obj, ok = s.Leases[key]
	}
	if !ok {
		return nil
	}
	return obj
}

// eventChanges compares the event log, which RecordEvents changes in
// place and trims, with the events the stream holds: at most MaxEvents.
func (f *FSM) eventChanges(index uint64) []*Change {
	var changes []*Change
	now := map[string]bool{}
	if f.st.Events != nil {
		want := rv(index)
		for _, e := range f.st.Events.Items {
			key := e.ObjectMeta.Namespace + "/" + e.ObjectMeta.Name
			now[key] = true
			if e.ObjectMeta.ResourceVersion != want {
				continue
			}
			obj, err := encodeObject(KindEvent, e)
			if err != nil {
				panic(fmt.Sprintf("consensus: change stream: %v", err))
			}
			changes = append(changes, &Change{Kind: KindEvent, Key: key, Index: index, Object: obj})
		}
	}
	f.changes.mu.Lock()
	var gone []string
	if ks, ok := f.changes.kinds[KindEvent]; ok {
		for key := range ks.store {
			if !now[key] {
				gone = append(gone, key)
			}
		}
	}
	f.changes.mu.Unlock()
	sort.Strings(gone)
	for _, key := range gone {
		changes = append(changes, &Change{Kind: KindEvent, Key: key, Index: index})
	}
	return changes
}

// encodeObject is obj's JSON with its kind and apiVersion (stored objects
// may lack them); nil for a nil obj.
func encodeObject(kind string, obj any) (json.RawMessage, error) {
	if obj == nil {
		return nil, nil
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", kind, err)
	}
	if bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if bytes.HasPrefix(raw, []byte(`{"kind":`)) || bytes.HasPrefix(raw, []byte(`{"apiVersion":`)) || !bytes.HasPrefix(raw, []byte("{")) {
		return raw, nil
	}
	head := fmt.Sprintf(`{"kind":%q,"apiVersion":%q`, kind, apiVersionOf(kind))
	rest := raw[1:]
	if !bytes.Equal(rest, []byte("}")) {
		head += ","
	}
	return append([]byte(head), rest...), nil
}

// allObjects is every stored object as a Change at the state's index: the
// stream's start after a snapshot is restored.
func (s *state) allObjects() ([]*Change, error) {
	var out []*Change
	add := func(kind, key string, obj any) error {
		raw, err := encodeObject(kind, obj)
		if err != nil {
			return err
		}
		out = append(out, &Change{Kind: kind, Key: key, Index: s.Index, Object: raw})
		return nil
	}
	for k, p := range s.Pods {
		if err := add(KindPod, k, p); err != nil {
			return nil, err
		}
	}
	for k, n := range s.Nodes {
		if err := add(KindNode, k, n); err != nil {
			return nil, err
		}
	}
	for k, o := range s.RCs {
		if err := add(KindReplicationController, k, o); err != nil {
			return nil, err
		}
	}
	for k, o := range s.ReplicaSets {
		if err := add(KindReplicaSet, k, o); err != nil {
			return nil, err
		}
	}
	for k, o := range s.Deployments {
		if err := add(KindDeployment, k, o); err != nil {
			return nil, err
		}
	}
	for k, o := range s.DaemonSets {
		if err := add(KindDaemonSet, k, o); err != nil {
			return nil, err
		}
	}
	for k, o := range s.ControllerRevisions {
		if err := add(KindControllerRevision, k, o); err != nil {
			return nil, err
		}
	}
	for k, o := range s.Secrets {
		if err := add(KindSecret, k, o); err != nil {
			return nil, err
		}
	}
	for k, o := range s.ConfigMaps {
		if err := add(KindConfigMap, k, o); err != nil {
			return nil, err
		}
	}
	for k, o := range s.ServiceAccounts {
		if err := add(KindServiceAccount, k, o); err != nil {
			return nil, err
		}
	}
	for k, o := range s.Services {
		if err := add(KindService, k, o); err != nil {
			return nil, err
		}
	}
	for k, o := range s.Endpoints {
		if err := add(KindEndpoints, k, o); err != nil {
			return nil, err
		}
	}
	for k, o := range s.EndpointSlices {
		if err := add(KindEndpointSlice, k, o); err != nil {
			return nil, err
		}
	}
	for k, o := range s.Namespaces {
		if err := add(KindNamespace, k, o); err != nil {
			return nil, err
		}
	}
	for k, o := range s.Jobs {
		if err := add(KindJob, k, o); err != nil {
			return nil, err
		}
	}
	for k, o := range s.CronJobs {
		if err := add(KindCronJob, k, o); err != nil {
			return nil, err
		}
	}
	for k, o := range s.Leases {
		if err := add(KindLease, k, o); err != nil {
			return nil, err
		}
	}
	if s.Events != nil {
		for _, e := range s.Events.Items {
			if err := add(KindEvent, e.ObjectMeta.Namespace+"/"+e.ObjectMeta.Name, e); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// Changes is the stream of what this state machine applies.
func (f *FSM) Changes() *ChangeStream { return f.changes }
