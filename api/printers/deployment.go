package printers

import (
	"fmt"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// DeploymentColumns are kubectl's columns of a Deployment.
func DeploymentColumns() []Column {
	return []Column{
		{"Name", "string", nameDesc, 0},
		{"Ready", "string", "Number of the pod with ready state", 0},
		{"Up-to-date", "integer", "Total number of non-terminated pods targeted by this deployment that have the desired template spec.", 0},
		{"Available", "integer", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.", 0},
		{"Age", "string", ageDesc, 0},
		{"Containers", "string", "Names of each container in the template.", 1},
		{"Images", "string", "Images referenced by each container in the template.", 1},
		{"Selector", "string", "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.", 1},
	}
}

// Deployment is the row of d under DeploymentColumns.
func Deployment(d *api.Deployment, now time.Time) []any {
	desired := int32(1)
	if d.Spec.Replicas != nil {
		desired = *d.Spec.Replicas
	}
	var names, images []string
	for _, c := range d.Spec.Template.Spec.Containers {
		names = append(names, c.Name)
		images = append(images, c.Image)
	}
	var sel map[string]string
	if d.Spec.Selector != nil {
		sel = d.Spec.Selector.MatchLabels
	}
	return []any{
		d.Name, fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, desired),
		int64(d.Status.UpdatedReplicas), int64(d.Status.AvailableReplicas),
		Age(d.CreationTimestamp.Time, now),
		strings.Join(names, ","), strings.Join(images, ","), FormatLabels(sel),
	}
}
