package consensus

import (
	"time"

	"github.com/shoal-dev/shoal/api"
)

// ApplyController creates a ReplicationController, a ReplicaSet or a
// Deployment (exactly one of RC, RS and Deploy is set), or updates the stored one. Create refuses an
// existing name (POST); otherwise the spec and labels are replaced (PUT /
// apply) and the generation moves when the spec changed.
type ApplyController struct {
	RC     *api.ReplicationController `json:"rc,omitempty"`
	RS     *api.ReplicaSet            `json:"rs,omitempty"`
	Deploy *api.Deployment            `json:"deployment,omitempty"`
	Create bool                       `json:"create,omitempty"`
	UID    api.UID                    `json:"uid"` // used only when the object is created
	Time   time.Time                  `json:"time"`
}

// DeleteController removes an RC or ReplicaSet. Without Orphan the pods it
// controls go with it in the same entry; with Orphan they stay and lose
// their controller reference.
type DeleteController struct {
	Kind      string  `json:"kind"`
	Namespace string  `json:"namespace"`
	Name      string  `json:"name"`
	UID       api.UID `json:"uid,omitempty"`
	Orphan    bool    `json:"orphan,omitempty"`
}

// ScaleController sets spec.replicas.
type ScaleController struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Replicas  int32  `json:"replicas"`
	// ResourceVersion, when set, must match the stored object.
	ResourceVersion string `json:"resourceVersion,omitempty"`
}

// UpdateControllerStatus records what the leader's replication controller
// counted.
type UpdateControllerStatus struct {
	Kind      string            `json:"kind"`
	Namespace string            `json:"namespace"`
	Name      string            `json:"name"`
	UID       api.UID           `json:"uid"`
	Status    api.ReplicaCounts `json:"status"`
}

// Type implements Command.
func (ApplyController) Type() string { return "ApplyController" }

// Type implements Command.
func (DeleteController) Type() string { return "DeleteController" }

// Type implements Command.
func (ScaleController) Type() string { return "ScaleController" }

// Type implements Command.
func (UpdateControllerStatus) Type() string { return "UpdateControllerStatus" }
