package consensus

import (
	"sort"

	"github.com/shoal-dev/shoal/api"
)

// controller returns the stored RC or ReplicaSet (not a copy).
func (s *state) controller(kind, ns, name string) (api.Replicated, bool) {
	key := api.Key(ns, name)
	switch kind {
	case api.KindReplicationController:
		rc, ok := s.RCs[key]
		return rc, ok
	case api.KindReplicaSet:
		rs, ok := s.ReplicaSets[key]
		return rs, ok
	case api.KindDeployment:
		d, ok := s.Deployments[key]
		return d, ok
	}
	return nil, false
}

func (s *state) putController(obj api.Replicated) {
	key := api.Key(api.MetaOf(obj).Namespace, api.MetaOf(obj).Name)
	switch o := obj.(type) {
	case *api.ReplicationController:
		if s.RCs == nil {
			s.RCs = map[string]*api.ReplicationController{}
		}
		s.RCs[key] = o
		s.touch(KindReplicationController, key)
	case *api.ReplicaSet:
		if s.ReplicaSets == nil {
			s.ReplicaSets = map[string]*api.ReplicaSet{}
		}
		s.ReplicaSets[key] = o
		s.touch(KindReplicaSet, key)
	case *api.Deployment:
		if s.Deployments == nil {
			s.Deployments = map[string]*api.Deployment{}
		}
		s.Deployments[key] = o
		s.touch(KindDeployment, key)
	}
}

func (s *state) removeController(kind, ns, name string) {
	s.touch(kind, api.Key(ns, name))
	switch kind {
	case api.KindReplicationController:
		delete(s.RCs, api.Key(ns, name))
	case api.KindReplicaSet:
		delete(s.ReplicaSets, api.Key(ns, name))
	case api.KindDeployment:
		delete(s.Deployments, api.Key(ns, name))
	}
}

// sortedControllers lists RCs then ReplicaSets, each by key; Deployments
// only when kind asks for them (the replication controller, which runs
// the other two, lists kind "").
func (s *state) sortedControllers(kind string) []api.Replicated {
	var out []api.Replicated
	if kind == api.KindDeployment {
		keys := make([]string, 0, len(s.Deployments))
		for k := range s.Deployments {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, s.Deployments[k])
		}
		return out
	}
	if kind == "" || kind == api.KindReplicationController {
		keys := make([]string, 0, len(s.RCs))
		for k := range s.RCs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, s.RCs[k])
		}
	}
	if kind == "" || kind == api.KindReplicaSet {
		keys := make([]string, 0, len(s.ReplicaSets))
		for k := range s.ReplicaSets {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, s.ReplicaSets[k])
		}
	}
	return out
}

// CopyReplicated deep-copies an RC, a ReplicaSet or a Deployment.
func CopyReplicated(obj api.Replicated) api.Replicated {
	switch o := obj.(type) {
	case *api.ReplicationController:
		out := &api.ReplicationController{}
		mustRoundTrip(o, out)
		return out
	case *api.ReplicaSet:
		out := &api.ReplicaSet{}
		mustRoundTrip(o, out)
		return out
	case *api.Deployment:
		out := &api.Deployment{}
		mustRoundTrip(o, out)
		return out
	}
	return nil
}

// Controller returns a copy of one RC or ReplicaSet, or a NotFoundError.
func (f *FSM) Controller(kind, namespace, name string) (api.Replicated, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	obj, ok := f.st.controller(kind, namespace, name)
	if !ok {
		return nil, &NotFoundError{Kind: kind, Namespace: namespace, Name: name}
	}
	return CopyReplicated(obj), nil
}

// Controllers returns copies of the RCs and ReplicaSets of kind ("" for
// both) that filter accepts, and the index they were read at.
func (f *FSM) Controllers(kind string, filter func(api.Replicated) bool) ([]api.Replicated, uint64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []api.Replicated
	for _, obj := range f.st.sortedControllers(kind) {
		if filter == nil || filter(obj) {
			out = append(out, CopyReplicated(obj))
		}
	}
	return out, f.st.Index
}
