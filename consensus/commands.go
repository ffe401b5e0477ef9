package consensus

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// Command is one change of cluster state, as it travels in the Raft log.
// Everything Apply needs that is chosen rather than derived (times, UIDs,
// the node and IP of a binding) is a field of the command.
type Command interface {
	// Type names the command in the log envelope.
	Type() string
}

// RegisterNode creates a node or updates what its agent reports (labels,
// capacity, allocatable, addresses, system info, conditions). On first
// registration the node gets the lowest free block of ClusterCIDR.
type RegisterNode struct {
	Node        api.Node  `json:"node"`
	ClusterCIDR string    `json:"clusterCIDR,omitempty"` // default 10.244.0.0/16
	BlockBits   int       `json:"blockBits,omitempty"`   // prefix length of a node's block; default 24
	Time        time.Time `json:"time"`
}

// SetNodeCondition records the node's Ready condition (from gossip or the
// agent's heartbeat). A node that turns not ready takes its running pods
// to phase Unknown.
type SetNodeCondition struct {
	Name    string    `json:"name"`
	Ready   bool      `json:"ready"`
	Reason  string    `json:"reason,omitempty"`
	Message string    `json:"message,omitempty"`
	Time    time.Time `json:"time"`
}

// CreatePod stores a new pending pod; the name must be free.
type CreatePod struct {
	Pod  api.Pod   `json:"pod"`
	UID  api.UID   `json:"uid"`
	Time time.Time `json:"time"`
}

// ApplyPod creates the pod, or updates the stored one: labels, annotations,
// ownerReferences and container images may change, any other spec change
// is rejected naming the field.
type ApplyPod struct {
	Pod  api.Pod   `json:"pod"`
	UID  api.UID   `json:"uid"` // used only when the pod is created
	Time time.Time `json:"time"`
}

// DeletePod removes a pod; a non-empty UID must match the stored pod.
type DeletePod struct {
	Namespace string  `json:"namespace"`
	Name      string  `json:"name"`
	UID       api.UID `json:"uid,omitempty"`
}

// BindPod places a pending pod on Node with PodIP, if it still fits there.
type BindPod struct {
	Namespace string    `json:"namespace"`
	Name      string    `json:"name"`
	UID       api.UID   `json:"uid"`
	Node      string    `json:"node"`
	PodIP     string    `json:"podIP"`
	Time      time.Time `json:"time"`
}

// SetPodUnschedulable records why a pending pod fits no node.
type SetPodUnschedulable struct {
	Namespace string    `json:"namespace"`
	Name      string    `json:"name"`
	UID       api.UID   `json:"uid"`
	Message   string    `json:"message"`
	Time      time.Time `json:"time"`
}

// UpdatePodStatus is a node's report on a pod bound to it.
type UpdatePodStatus struct {
	Namespace string        `json:"namespace"`
	Name      string        `json:"name"`
	UID       api.UID       `json:"uid"`
	Node      string        `json:"node"`
	Status    api.PodStatus `json:"status"`
	Time      time.Time     `json:"time"`
}

// Type implements Command.
func (RegisterNode) Type() string { return "RegisterNode" }

// Type implements Command.
func (SetNodeCondition) Type() string { return "SetNodeCondition" }

// Type implements Command.
func (CreatePod) Type() string { return "CreatePod" }

// Type implements Command.
func (ApplyPod) Type() string { return "ApplyPod" }

// Type implements Command.
func (DeletePod) Type() string { return "DeletePod" }

// Type implements Command.
func (BindPod) Type() string { return "BindPod" }

// Type implements Command.
func (SetPodUnschedulable) Type() string { return "SetPodUnschedulable" }

// Type implements Command.
func (UpdatePodStatus) Type() string { return "UpdatePodStatus" }

// envelope is the log entry: the command's type and its JSON body.
type envelope struct {
	Type string          `json:"type"`
	Body json.RawMessage `json:"body"`
}

// EncodeCommand turns a command into log entry bytes.
func EncodeCommand(cmd Command) ([]byte, error) {
	body, err := json.Marshal(cmd)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", cmd.Type(), err)
	}
	out, err := json.Marshal(envelope{Type: cmd.Type(), Body: body})
	if err != nil {
		return nil, fmt.Errorf("encode %s envelope: %w", cmd.Type(), err)
	}
	return out, nil
}

// DecodeCommand reads log entry bytes back into a command (a pointer to
// one of the command structs).
func DecodeCommand(data []byte) (Command, error) {
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, fmt.Errorf("decode command envelope: %w", err)
	}
	var cmd Command
	switch env.Type {
	case "RegisterNode":
		cmd = &RegisterNode{}
	case "SetNodeCondition":
		cmd = &SetNodeCondition{}
	case "CreatePod":
		cmd = &CreatePod{}
	case "ApplyPod":
		cmd = &ApplyPod{}
	case "DeletePod":
		cmd = &DeletePod{}
	case "BindPod":
		cmd = &BindPod{}
	case "SetPodUnschedulable":
		cmd = &SetPodUnschedulable{}
	case "UpdatePodStatus":
		cmd = &UpdatePodStatus{}
	case "ApplyController":
		cmd = &ApplyController{}
	case "DeleteController":
		cmd = &DeleteController{}
	case "ScaleController":
		cmd = &ScaleController{}
	case "UpdateControllerStatus":
		cmd = &UpdateControllerStatus{}
	case "UpdateDeploymentStatus":
		cmd = &UpdateDeploymentStatus{}
	case "RecordEvents":
		cmd = &RecordEvents{}
	case "ApplyEvent":
		cmd = &ApplyEvent{}
	case "DeleteEvent":
		cmd = &DeleteEvent{}
	case "ApplyDaemonSet":
		cmd = &ApplyDaemonSet{}
	case "DeleteDaemonSet":
		cmd = &DeleteDaemonSet{}
	case "UpdateDaemonSetStatus":
		cmd = &UpdateDaemonSetStatus{}
	case "PutControllerRevision":
		cmd = &PutControllerRevision{}
	case "DeleteControllerRevision":
		cmd = &DeleteControllerRevision{}
	case "ApplySecret":
		cmd = &ApplySecret{}
	case "DeleteSecret":
		cmd = &DeleteSecret{}
	case "ApplyConfigMap":
		cmd = &ApplyConfigMap{}
	case "DeleteConfigMap":
		cmd = &DeleteConfigMap{}
	case "ApplyServiceAccount":
		cmd = &ApplyServiceAccount{}
	case "DeleteServiceAccount":
		cmd = &DeleteServiceAccount{}
	case "ApplyService":
		cmd = &ApplyService{}
	case "DeleteService":
		cmd = &DeleteService{}
	case "PutEndpoints":
		cmd = &PutEndpoints{}
	case "DeleteEndpoints":
		cmd = &DeleteEndpoints{}
	case "PutEndpointSlice":
		cmd = &PutEndpointSlice{}
	case "DeleteEndpointSlice":
		cmd = &DeleteEndpointSlice{}
	case "ApplyNamespace":
		cmd = &ApplyNamespace{}
	case "DeleteNamespace":
		cmd = &DeleteNamespace{}
	case "FinalizeNamespace":
		cmd = &FinalizeNamespace{}
	case "DeleteObject":
		cmd = &DeleteObject{}
	case "SetControllerRef":
		cmd = &SetControllerRef{}
	case "ApplyJob":
		cmd = &ApplyJob{}
	case "DeleteJob":
		cmd = &DeleteJob{}
	case "UpdateJobStatus":
		cmd = &UpdateJobStatus{}
	case "ApplyCronJob":
		cmd = &ApplyCronJob{}
	case "DeleteCronJob":
		cmd = &DeleteCronJob{}
	case "UpdateCronJobStatus":
		cmd = &UpdateCronJobStatus{}
	case "UpdateNode":
		cmd = &UpdateNode{}
	case "ApplyLease":
		cmd = &ApplyLease{}
	case "DeleteLease":
		cmd = &DeleteLease{}
	case "RenewNodeLeases":
		cmd = &RenewNodeLeases{}
	case "CreatePods":
		cmd = &CreatePods{}
	case "BindPods":
		cmd = &BindPods{}
	default:
		return nil, fmt.Errorf("decode command: unknown type %q", env.Type)
	}
	if err := json.Unmarshal(env.Body, cmd); err != nil {
		return nil, fmt.Errorf("decode %s: %w", env.Type, err)
	}
	return cmd, nil
}
