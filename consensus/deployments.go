package consensus

import (
	"reflect"

	"github.com/shoal-dev/shoal/api"
)

// Deployments are stored beside RCs and ReplicaSets and share their
// commands (ApplyController with Deploy, ScaleController and
// DeleteController with kind Deployment); only their status, richer than
// the replica counts, has a command of its own.

// UpdateDeploymentStatus records what the leader's deployment controller
// observed.
type UpdateDeploymentStatus struct {
	Namespace string               `json:"namespace"`
	Name      string               `json:"name"`
	UID       api.UID              `json:"uid"`
	Status    api.DeploymentStatus `json:"status"`
}

// Type implements Command.
func (UpdateDeploymentStatus) Type() string { return "UpdateDeploymentStatus" }

func (s *state) updateDeploymentStatus(index uint64, c *UpdateDeploymentStatus) (*Result, error) {
	obj, ok := s.controller(api.KindDeployment, c.Namespace, c.Name)
	if !ok {
		return nil, &NotFoundError{Kind: api.KindDeployment, Namespace: c.Namespace, Name: c.Name}
	}
	d := obj.(*api.Deployment)
	if c.UID != d.UID {
		return nil, &ConflictError{Kind: api.KindDeployment, Namespace: c.Namespace, Name: c.Name,
			Reason: string("uid " + c.UID + " does not match the stored object's " + d.UID)}
	}
	if reflect.DeepEqual(toGeneric(d.Status), toGeneric(c.Status)) {
		return &Result{Index: index, Controller: CopyReplicated(d)}, nil
	}
	out := CopyReplicated(d).(*api.Deployment)
	out.Status = c.Status
	out.ResourceVersion = rv(index)
	s.putController(out)
	return &Result{Index: index, Controller: CopyReplicated(out), Changed: true}, nil
}

// deleteDeploymentReplicaSets goes with the deletion of the Deployment
// whose UID is uid: its ReplicaSets and their pods go in the same entry,
// or, with orphan, the ReplicaSets stay and lose their controller
// reference (their pods stay theirs).
func (s *state) deleteDeploymentReplicaSets(index uint64, uid api.UID, orphan bool) {
	for _, obj := range s.sortedControllers(api.KindReplicaSet) {
		rs := obj.(*api.ReplicaSet)
		ref := api.ControllerOfMeta(&rs.ObjectMeta)
		if ref == nil || ref.UID != uid {
			continue
		}
		if orphan {
			out := CopyReplicated(rs).(*api.ReplicaSet)
			var refs []api.OwnerReference
			for _, r := range out.OwnerReferences {
				if r.UID != uid {
					refs = append(refs, r)
				}
			}
			out.OwnerReferences = refs
			out.ResourceVersion = rv(index)
			s.putController(out)
			continue
		}
		for _, key := range s.sortedPodKeys() {
			if ref := api.ControllerOf(s.Pods[key]); ref != nil && ref.UID == rs.UID {
				s.removePod(key)
			}
		}
		s.removeController(api.KindReplicaSet, rs.Namespace, rs.Name)
	}
}
