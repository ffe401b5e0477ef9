package controllers

import (
	"context"
	"errors"
	"fmt"
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
	var after uint64
	for ctx.Err() == nil {
		wctx, cancel := context.WithTimeout(ctx, endpointsResync)
		idx, _ := l.state.WaitIndex(wctx, after)
		cancel()
		if ctx.Err() != nil {
			return
		}
		after = idx
		if _, err := l.syncEndpoints(ctx, ss); err != nil && ctx.Err() == nil {
			l.log.Warn("endpoints", "err", err)
		}
	}
}

// syncEndpoints is one pass over every Service: it reads the Services,
// pods, nodes and stored endpoints once, computes what each Service's
// endpoints should be, and writes only those that differ from what is
// stored (side by side, as Raft commits them in one batch). It returns
// how many writes it proposed. A write refused because the state moved
// meanwhile (Conflict, NotFound: the Service or the object was replaced
// or deleted) is no error: the pass that the change wakes decides again.
func (l *Leader) syncEndpoints(ctx context.Context, ss ServiceStore) (int, error) {
	svcs, _ := ss.Services(func(s *api.Service) bool { return len(s.Spec.Selector) > 0 })
	if len(svcs) == 0 {
		return 0, nil
	}
	// Copy out only the pods some selector may match: those with an
	// address, not finished, with at least one label a selector of their
	// namespace asks for.
	type pair struct{ ns, k, v string }
	asked := map[pair]bool{}
	for _, svc := range svcs {
		for k, v := range svc.Spec.Selector {
			asked[pair{svc.ObjectMeta.Namespace, k, v}] = true
		}
	}
	pods, _ := l.state.Pods(func(p *api.Pod) bool {
		if podAddress(p) == "" || consensus.Terminal(p) {
			return false
		}
		for k, v := range p.ObjectMeta.Labels {
			if asked[pair{p.ObjectMeta.Namespace, k, v}] {
				return true
			}
		}
		return false
	})
	ix := indexPods(pods)
	nodes, _ := l.state.Nodes()
	readyNodes := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		if placement.NodeReady(n) {
			readyNodes[n.ObjectMeta.Name] = true
		}
	}
	stored, _ := ss.ListEndpoints(nil)
	storedEps := make(map[string]*api.Endpoints, len(stored))
	for _, e := range stored {
		storedEps[api.Key(e.ObjectMeta.Namespace, e.ObjectMeta.Name)] = e
	}
	slices, _ := ss.EndpointSlices(func(es *api.EndpointSlice) bool {
		return es.ObjectMeta.Labels[api.LabelManagedBy] == api.EndpointSliceController
	})
	storedSlices := map[string]map[string]*api.EndpointSlice{} // service key -> slice name -> slice
	for _, es := range slices {
		k := api.Key(es.ObjectMeta.Namespace, es.ObjectMeta.Labels[api.LabelServiceName])
		if storedSlices[k] == nil {
			storedSlices[k] = map[string]*api.EndpointSlice{}
		}
		storedSlices[k][es.ObjectMeta.Name] = es
	}

	var writes []consensus.Command
	for _, svc := range svcs {
		key := api.Key(svc.ObjectMeta.Namespace, svc.ObjectMeta.Name)
		want := planEndpoints(svc, ix.selected(svc.ObjectMeta.Namespace, svc.Spec.Selector), readyNodes)
		writes = appendEndpointsWrites(writes, svc, want, storedEps[key], storedSlices[key])
	}
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

// appendEndpointsWrites appends the commands that make svc's stored
// endpoints (storedEps, nil when none; storedSlices by name) what want
// says. Each write carries the stored object's UID and resourceVersion,
// so that it is refused if that object moved since this pass read it.
func appendEndpointsWrites(dst []consensus.Command, svc *api.Service, want desiredEndpoints, storedEps *api.Endpoints, storedSlices map[string]*api.EndpointSlice) []consensus.Command {
	now := time.Now().UTC()
	svcUID := svc.ObjectMeta.UID
	if storedEps == nil || !sameEndpoints(storedEps, want.endpoints) {
		e := want.endpoints
		if storedEps != nil {
			e.ObjectMeta.UID, e.ObjectMeta.ResourceVersion = storedEps.ObjectMeta.UID, storedEps.ObjectMeta.ResourceVersion
		}
		dst = append(dst, consensus.PutEndpoints{Endpoints: *e, ServiceUID: svcUID, UID: uuid.NewUUID(), Time: now})
	}
	keep := make(map[string]bool, len(want.slices))
	for _, es := range want.slices {
		keep[es.ObjectMeta.Name] = true
		old := storedSlices[es.ObjectMeta.Name]
		if old != nil && sameSlice(old, es) {
			continue
		}
		if old != nil {
			es.ObjectMeta.UID, es.ObjectMeta.ResourceVersion = old.ObjectMeta.UID, old.ObjectMeta.ResourceVersion
		}
		dst = append(dst, consensus.PutEndpointSlice{Slice: *es, ServiceUID: svcUID, UID: uuid.NewUUID(), Time: now})
	}
	for name, old := range storedSlices {
		if !keep[name] {
			dst = append(dst, consensus.DeleteEndpointSlice{Namespace: old.ObjectMeta.Namespace, Name: name, UID: old.ObjectMeta.UID})
		}
	}
	return dst
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
