package consensus

import (
	"github.com/shoal-dev/shoal/api"
)

// SetControllerRef adopts an object for a controller or releases it, as
// Kubernetes' controllers claim what their selector matches
// (ControllerRefManager): with Adopt, the object (which must have no
// controller) gets Owner as its controller reference, provided the owner
// is stored under its kind, namespace and name with its UID (a controller
// deleted since its pass read it adopts nothing: the object would be
// garbage at once); without, the controller reference to Owner.UID is
// removed. UID and a non-empty ResourceVersion must match the object, so
// a change since the controller read it is a Conflict.
type SetControllerRef struct {
	Kind            string             `json:"kind"`
	Namespace       string             `json:"namespace"`
	Name            string             `json:"name"`
	UID             api.UID            `json:"uid"`
	ResourceVersion string             `json:"resourceVersion,omitempty"`
	Owner           api.OwnerReference `json:"owner"`
	Adopt           bool               `json:"adopt,omitempty"`
}

// Type implements Command.
func (SetControllerRef) Type() string { return "SetControllerRef" }

func (s *state) setControllerRef(index uint64, c *SetControllerRef) (*Result, error) {
	k, ok := storedKindOf(c.Kind)
	if !ok {
		return nil, rejectf("set controller reference: kind %q is not one DeleteObject serves", c.Kind)
	}
	key := api.Key(c.Namespace, c.Name)
	obj := k.get(s, key)
	if obj == nil {
		return nil, &NotFoundError{Kind: c.Kind, Namespace: c.Namespace, Name: c.Name}
	}
	m := api.MetaOf(obj)
	conflict := func(why string) error {
		return &ConflictError{Kind: c.Kind, Namespace: c.Namespace, Name: c.Name, Reason: why}
	}
	if m.UID != c.UID {
		return nil, conflict(string("uid " + c.UID + " does not match the stored object's " + m.UID))
	}
	if c.ResourceVersion != "" && c.ResourceVersion != m.ResourceVersion {
		return nil, conflict("the object has been modified (resourceVersion " + c.ResourceVersion + ", now " + m.ResourceVersion + ")")
	}
	cur := api.ControllerOfMeta(m)
	var refs []api.OwnerReference
	if c.Adopt {
		if cur != nil {
			return nil, conflict("it already has a controller: " + cur.Kind + " " + cur.Name)
		}
		if !s.ownerLive(c.Namespace, c.Owner) || !OwnerKindKnown(c.Owner.APIVersion, c.Owner.Kind) {
			return nil, conflict("its would-be controller " + c.Owner.Kind + " " + c.Owner.Name + " no longer exists")
		}
		yes := true
		owner := c.Owner
		owner.Controller, owner.BlockOwnerDeletion = &yes, &yes
		for _, r := range m.OwnerReferences {
			if r.UID != owner.UID {
				refs = append(refs, r)
			}
		}
		refs = append(refs, owner)
	} else {
		if cur == nil || cur.UID != c.Owner.UID {
			return nil, conflict("it is not controlled by " + c.Owner.Kind + " " + c.Owner.Name)
		}
		for _, r := range m.OwnerReferences {
			if r.UID != c.Owner.UID {
				refs = append(refs, r)
			}
		}
	}
	// Stored objects are only ever read through copies: a change in place
	// under Apply's lock is safe.
	m.OwnerReferences = refs
	m.ResourceVersion = rv(index)
	s.touch(k.kind, key)
	return &Result{Index: index, Changed: true}, nil
}
