package printers

import (
	"strings"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// DaemonSetColumns are kubectl's columns of a DaemonSet.
func DaemonSetColumns() []Column {
	return []Column{
		{"Name", "string", nameDesc, 0},
		{"Desired", "integer", "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod).", 0},
		{"Current", "integer", "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.", 0},
		{"Ready", "integer", "numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.", 0},
		{"Up-to-date", "integer", "The total number of nodes that are running updated daemon pod", 0},
		{"Available", "integer", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)", 0},
		{"Node Selector", "string", "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node.", 0},
		{"Age", "string", ageDesc, 0},
		{"Containers", "string", "Names of each container in the template.", 1},
		{"Images", "string", "Images referenced by each container in the template.", 1},
		{"Selector", "string", "A label query over pods that are managed by the daemon set.", 1},
	}
}

// DaemonSet is the row of ds under DaemonSetColumns.
func DaemonSet(ds *api.DaemonSet, now time.Time) []any {
	var names, images []string
	for _, c := range ds.Spec.Template.Spec.Containers {
		names = append(names, c.Name)
		images = append(images, c.Image)
	}
	var sel map[string]string
	if ds.Spec.Selector != nil {
		sel = ds.Spec.Selector.MatchLabels
	}
	st := ds.Status
	return []any{
		ds.Name, int64(st.DesiredNumberScheduled), int64(st.CurrentNumberScheduled), int64(st.NumberReady),
		int64(st.UpdatedNumberScheduled), int64(st.NumberAvailable), FormatLabels(ds.Spec.Template.Spec.NodeSelector),
		Age(ds.CreationTimestamp.Time, now),
		strings.Join(names, ","), strings.Join(images, ","), FormatLabels(sel),
	}
}
