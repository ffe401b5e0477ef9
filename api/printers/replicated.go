package printers

import (
	"strings"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// ReplicatedColumns are kubectl's columns of a ReplicationController and
// of a ReplicaSet.
func ReplicatedColumns() []Column {
	return []Column{
		{"Name", "string", nameDesc, 0},
		{"Desired", "integer", "Replicas is the number of desired replicas.", 0},
		{"Current", "integer", "Replicas is the most recently observed number of replicas.", 0},
		{"Ready", "integer", "The number of ready replicas for this replication controller.", 0},
		{"Age", "string", ageDesc, 0},
		{"Containers", "string", "Names of each container in the template.", 1},
		{"Images", "string", "Images referenced by each container in the template.", 1},
		{"Selector", "string", "Label selector for pods. Existing ReplicationControllers whose pods are selected by this will be the ones affected by this replication controller.", 1},
	}
}

// ReplicationController is the row of rc under ReplicatedColumns.
func ReplicationController(rc *api.ReplicationController, now time.Time) []any {
	return replicatedRow(&rc.ObjectMeta, rc.Spec.Replicas, rc.Spec.Template, &rc.Status, FormatLabels(rc.Spec.Selector), now)
}

// ReplicaSet is the row of rs under ReplicatedColumns; its selector's
// matchLabels, as kubectl shows them.
func ReplicaSet(rs *api.ReplicaSet, now time.Time) []any {
	var sel map[string]string
	if rs.Spec.Selector != nil {
		sel = rs.Spec.Selector.MatchLabels
	}
	st := api.ReplicationControllerStatus{Replicas: rs.Status.Replicas, ReadyReplicas: rs.Status.ReadyReplicas}
	tmpl := rs.Spec.Template
	return replicatedRow(&rs.ObjectMeta, rs.Spec.Replicas, &tmpl, &st, FormatLabels(sel), now)
}

func replicatedRow(meta *api.ObjectMeta, replicas *int32, tmpl *api.PodTemplateSpec, st *api.ReplicationControllerStatus, selector string, now time.Time) []any {
	desired := int64(1)
	if replicas != nil {
		desired = int64(*replicas)
	}
	var names, images []string
	if tmpl != nil {
		for _, c := range tmpl.Spec.Containers {
			names = append(names, c.Name)
			images = append(images, c.Image)
		}
	}
	return []any{
		meta.Name, desired, int64(st.Replicas), int64(st.ReadyReplicas),
		Age(meta.CreationTimestamp.Time, now),
		strings.Join(names, ","), strings.Join(images, ","), selector,
	}
}
