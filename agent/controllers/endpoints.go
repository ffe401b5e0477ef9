package controllers

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/uuid"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
	"github.com/shoal-dev/shoal/placement"
)

// endpointsResync bounds how long the endpoints controller trusts that
// nothing changed: a write refused because the state moved is retried at
// the latest then.
const endpointsResync = 2 * time.Second

// endpointsController keeps, while this server leads, the v1 Endpoints and
// the EndpointSlices of every Service with a selector: the pods it selects
// in its namespace, ready or not (endpoints_desired.go). It runs a pass
// at every change of the state, and at least every endpointsResync.
// Services without a selector are left alone, as Kubernetes leaves them
// to whoever keeps their endpoints by hand.
func (l *Leader) endpointsController(ctx context.Context) {
	ss, _ := l.state.(ServiceStore)
	if ss == nil {
		return
	}
	l.onEachChange(ctx, endpointsResync, func() {
		if _, err := l.syncEndpoints(ctx, ss); err != nil && ctx.Err() == nil {
			l.log.Warn("endpoints", "err", err)
		}
	})
}

// syncEndpoints is one pass over every Service: it reads the Services,
// pods and nodes once, computes what each Service's endpoints should be,
// and writes only those that differ from what is stored (side by side,
// as Raft commits them in one batch). It returns how many writes it
// proposed. A write refused because the state moved meanwhile (Conflict,
// NotFound: the Service or the object was replaced or deleted) is no
// error: the pass that the change wakes decides again.
//
// The state's readers copy every object they return through JSON, which
// costs far more than this controller's own work; so a pass reads through
// their filters, which see the stored objects under the state's read
// lock: Services deep-copied by their generated DeepCopy, of pods only
// what endpoints need (endpointPod), and the stored endpoints compared
// there, so that only those to be written are copied.
func (l *Leader) syncEndpoints(ctx context.Context, ss ServiceStore) (int, error) {
	var svcs []*api.Service
	ss.Services(func(s *api.Service) bool {
		if len(s.Spec.Selector) > 0 {
			svcs = append(svcs, s.DeepCopy())
		}
		return false
	})
	if len(svcs) == 0 {
		return 0, nil
	}
	// Only pods with a label some selector of their namespace asks for
	// can be selected.
	type pair struct{ ns, k, v string }
	asked := map[pair]bool{}
	for _, svc := range svcs {
		for k, v := range svc.Spec.Selector {
			asked[pair{svc.ObjectMeta.Namespace, k, v}] = true
		}
	}
	ix := podIndex{}
	l.state.Pods(func(p *api.Pod) bool {
		for k, v := range p.ObjectMeta.Labels {
			if asked[pair{p.ObjectMeta.Namespace, k, v}] {
				if ep := newEndpointPod(p); ep != nil {
					ix.add(ep)
				}
				break
			}
		}
		return false
	})
	// The stored nodes, read-only: a copy of every Node at each pass was
	// work of nodes times changes on the leader (docs/scale.md).
	infos := l.state.AppendNodeInfos(nil)
	readyNodes := make(map[string]bool, len(infos))
	for _, in := range infos {
		if placement.NodeReady(in.Node) {
			readyNodes[in.Node.ObjectMeta.Name] = true
		}
	}

	wantEps := make(map[string]*api.Endpoints, len(svcs))
	wantSlices := make(map[string]map[string]*api.EndpointSlice, len(svcs)) // service key -> slice name -> slice
	for _, svc := range svcs {
		key := api.Key(svc.ObjectMeta.Namespace, svc.ObjectMeta.Name)
		want := planEndpoints(svc, ix.selected(svc.ObjectMeta.Namespace, svc.Spec.Selector), readyNodes)
		wantEps[key] = want.endpoints
		byName := make(map[string]*api.EndpointSlice, len(want.slices))
		for _, es := range want.slices {
			byName[es.ObjectMeta.Name] = es
		}
		wantSlices[key] = byName
	}

	// What is stored and differs, or is stored and no longer wanted;
	// what is wanted and not stored at all is what was never seen.
	seenEps := make(map[string]bool, len(svcs))
	staleEps, _ := ss.ListEndpoints(func(e *api.Endpoints) bool {
		key := api.Key(e.ObjectMeta.Namespace, e.ObjectMeta.Name)
		want := wantEps[key]
		if want == nil {
			return false // no selector: not this controller's
		}
		seenEps[key] = true
		return !sameEndpoints(e, want)
	})
	seenSlices := map[string]bool{}
	staleSlices, _ := ss.EndpointSlices(func(es *api.EndpointSlice) bool {
		if es.ObjectMeta.Labels[api.LabelManagedBy] != api.EndpointSliceController {
			return false
		}
		byName := wantSlices[api.Key(es.ObjectMeta.Namespace, es.ObjectMeta.Labels[api.LabelServiceName])]
		if byName == nil {
			return false // its Service has no selector: left alone
		}
		key := api.Key(es.ObjectMeta.Namespace, es.ObjectMeta.Name)
		seenSlices[key] = true
		want := byName[es.ObjectMeta.Name]
		return want == nil || !sameSlice(es, want)
	})

	writes := endpointsWrites(svcs, wantEps, wantSlices, staleEps, staleSlices, seenEps, seenSlices)
	if len(writes) == 0 {
		return 0, nil
	}
	var (
		mu   sync.Mutex
		errs []error
	)
	sideBySide(len(writes), leaderWrites, func(i int) {
		_, err := l.seat.Apply(ctx, writes[i])
		if err == nil || consensus.IsConflict(err) || consensus.IsNotFound(err) {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, fmt.Errorf("%s: %w", describeEndpointsWrite(writes[i]), err))
	})
	return len(writes), errors.Join(errs...)
}

// endpointsWrites turns a pass's findings into commands: create what is
// wanted and was not seen stored, replace what is stored and differs,
// delete the slices no longer wanted. Each replace and delete carries the
// stored object's UID (and a replace its resourceVersion), and every put
// the Service's UID, so that a write is refused if what it was decided
// on moved since this pass read it.
func endpointsWrites(svcs []*api.Service, wantEps map[string]*api.Endpoints, wantSlices map[string]map[string]*api.EndpointSlice,
	staleEps []*api.Endpoints, staleSlices []*api.EndpointSlice, seenEps, seenSlices map[string]bool) []consensus.Command {
	now := time.Now().UTC()
	svcUID := make(map[string]api.UID, len(svcs))
	for _, svc := range svcs {
		svcUID[api.Key(svc.ObjectMeta.Namespace, svc.ObjectMeta.Name)] = svc.ObjectMeta.UID
	}
	var out []consensus.Command
	for _, old := range staleEps {
		key := api.Key(old.ObjectMeta.Namespace, old.ObjectMeta.Name)
		e := wantEps[key]
		e.ObjectMeta.UID, e.ObjectMeta.ResourceVersion = old.ObjectMeta.UID, old.ObjectMeta.ResourceVersion
		out = append(out, consensus.PutEndpoints{Endpoints: *e, ServiceUID: svcUID[key], Time: now})
	}
	for _, old := range staleSlices {
		svcKey := api.Key(old.ObjectMeta.Namespace, old.ObjectMeta.Labels[api.LabelServiceName])
		es := wantSlices[svcKey][old.ObjectMeta.Name]
		if es == nil {
			out = append(out, consensus.DeleteEndpointSlice{Namespace: old.ObjectMeta.Namespace, Name: old.ObjectMeta.Name, UID: old.ObjectMeta.UID})
			continue
		}
		es.ObjectMeta.UID, es.ObjectMeta.ResourceVersion = old.ObjectMeta.UID, old.ObjectMeta.ResourceVersion
		out = append(out, consensus.PutEndpointSlice{Slice: *es, ServiceUID: svcUID[svcKey], Time: now})
	}
	for _, svc := range svcs {
		key := api.Key(svc.ObjectMeta.Namespace, svc.ObjectMeta.Name)
		if !seenEps[key] {
			out = append(out, consensus.PutEndpoints{Endpoints: *wantEps[key], ServiceUID: svc.ObjectMeta.UID, UID: uuid.NewUUID(), Time: now})
		}
		for _, es := range sortedSlices(wantSlices[key]) {
			if !seenSlices[api.Key(es.ObjectMeta.Namespace, es.ObjectMeta.Name)] {
				out = append(out, consensus.PutEndpointSlice{Slice: *es, ServiceUID: svc.ObjectMeta.UID, UID: uuid.NewUUID(), Time: now})
			}
		}
	}
	return out
}

func sortedSlices(byName map[string]*api.EndpointSlice) []*api.EndpointSlice {
	out := make([]*api.EndpointSlice, 0, len(byName))
	for _, es := range byName {
		out = append(out, es)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ObjectMeta.Name < out[j].ObjectMeta.Name })
	return out
}

func describeEndpointsWrite(c consensus.Command) string {
	switch c := c.(type) {
	case consensus.PutEndpoints:
		return "write endpoints " + api.Key(c.Endpoints.ObjectMeta.Namespace, c.Endpoints.ObjectMeta.Name)
	case consensus.PutEndpointSlice:
		return "write endpoint slice " + api.Key(c.Slice.ObjectMeta.Namespace, c.Slice.ObjectMeta.Name)
	case consensus.DeleteEndpointSlice:
		return "delete endpoint slice " + api.Key(c.Namespace, c.Name)
	}
	return c.Type()
}
