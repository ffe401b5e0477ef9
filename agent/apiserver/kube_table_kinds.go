package apiserver

import (
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/api/printers"
)

// The columns and cells below follow Kubernetes' own printers
// (pkg/printers/internalversion), so kubectl get looks the same.

func col(name, typ, desc string, priority int32) tableColumn {
	c := tableColumn{Name: name, Type: typ, Description: desc, Priority: priority}
	if name == "Name" && priority == 0 {
		c.Format = "name"
	}
	return c
}

const nameDesc = "Name must be unique within a namespace."
const ageDesc = "CreationTimestamp is a timestamp representing the server time when this object was created."

func podTable() tableKind {
	return tableKind{columns: columnsOf(printers.PodColumns()), typed: typedRow(printers.Pod)}
}

// columnsOf is a shared printer's columns (api/printers) as a Table's.
func columnsOf(cols []printers.Column) []tableColumn {
	out := make([]tableColumn, len(cols))
	for i, c := range cols {
		out[i] = col(c.Name, c.Type, c.Description, c.Priority)
	}
	return out
}

// typedRow decodes an object of kind T and prints it with print.
func typedRow[T any](print func(*T, time.Time) []any) func(json.RawMessage, time.Time) ([]any, error) {
	return func(raw json.RawMessage, now time.Time) ([]any, error) {
		obj := new(T)
		if err := json.Unmarshal(raw, obj); err != nil {
			return nil, err
		}
		return print(obj, now), nil
	}
}

func nodeTable() tableKind {
	return tableKind{
		columns: []tableColumn{
			col("Name", "string", nameDesc, 0),
			col("Status", "string", "The status of the node", 0),
			col("Roles", "string", "The roles of the node", 0),
			col("Age", "string", ageDesc, 0),
			col("Version", "string", "Kubelet Version reported by the node.", 0),
			col("Internal-IP", "string", "List of addresses reachable to the node. Queried from cloud provider, if available.", 1),
			col("External-IP", "string", "List of addresses reachable to the node. Queried from cloud provider, if available.", 1),
			col("OS-Image", "string", "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", 1),
			col("Kernel-Version", "string", "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
			col("Container-Runtime", "string", "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).", 1),
			// shoal's own, after Kubernetes' columns.
			col("Pod-Block", "string", "The block of pod IPs the fleet gave the node (spec.podCIDR).", 1),
			col("CPU", "string", "CPU requested by the node's unfinished pods / allocatable.", 1),
			col("Memory", "string", "Memory requested by the node's unfinished pods / allocatable.", 1),
			col("Pods", "string", "Unfinished pods bound to the node.", 1),
		},
		row: nodeRow,
	}
}

func nodeRow(o jsonObj, now time.Time) []any {
	status := []string{"Unknown"}
	for _, c := range o.list("status", "conditions") {
		if c.str("type") == "Ready" {
			status[0] = "NotReady"
			if c.str("status") == "True" {
				status[0] = "Ready"
			}
		}
	}
	if o.get("spec", "unschedulable") == true {
		status = append(status, "SchedulingDisabled")
	}
	var roles []string
	labels := o.strMap("metadata", "labels")
	for k, v := range labels {
		if r, ok := strings.CutPrefix(k, "node-role.kubernetes.io/"); ok && r != "" {
			roles = append(roles, r)
		} else if k == "kubernetes.io/role" && v != "" {
			roles = append(roles, v)
		}
	}
	sort.Strings(roles)
	// shoal's roles (server, leader, client): node_view.go.
	annotations := o.strMap("metadata", "annotations")
	if r := annotations[annRoles]; r != "" {
		roles = append(roles, r)
	} else if _, ok := labels[api.LabelServerRole]; ok {
		roles = append(roles, "server")
	}
	used := func(ann, res string) string {
		have, ok := annotations[ann]
		if !ok {
			return "<unknown>"
		}
		return have + "/" + orNone(o.str("status", "allocatable", res))
	}
	addr := func(typ string) string {
		for _, a := range o.list("status", "addresses") {
			if a.str("type") == typ {
				return a.str("address")
			}
		}
		return "<none>"
	}
	unknown := func(s string) string {
		if s == "" {
			return "<unknown>"
		}
		return s
	}
	return []any{
		o.str("metadata", "name"), strings.Join(status, ","), orNone(strings.Join(roles, ",")),
		age(o.time("metadata", "creationTimestamp"), now), o.str("status", "nodeInfo", "kubeletVersion"),
		addr("InternalIP"), addr("ExternalIP"),
		unknown(o.str("status", "nodeInfo", "osImage")), unknown(o.str("status", "nodeInfo", "kernelVersion")),
		unknown(o.str("status", "nodeInfo", "containerRuntimeVersion")),
		orNone(o.str("spec", "podCIDR")), used(annAllocatedCPU, "cpu"), used(annAllocatedMemory, "memory"), used(annPods, "pods"),
	}
}

func eventTable() tableKind {
	return tableKind{
		columns: []tableColumn{
			col("Last Seen", "string", "The time the event was last seen", 0),
			col("Type", "string", "The type of event", 0),
			col("Reason", "string", "The reason for the event", 0),
			col("Object", "string", "The object this event is about", 0),
			col("Subobject", "string", "The subobject this event is about", 1),
			col("Source", "string", "The source of the event", 1),
			col("Message", "string", "The message of the event", 0),
			col("First Seen", "string", "The time the event was first seen", 1),
			col("Count", "string", "The number of times this event has been seen", 1),
			col("Name", "string", nameDesc, 1),
		},
		row: eventRow,
	}
}

func eventRow(o jsonObj, now time.Time) []any {
	first := o.time("firstTimestamp")
	if first.IsZero() {
		first = o.time("eventTime")
	}
	last := o.time("lastTimestamp")
	if t := o.time("series", "lastObservedTime"); !t.IsZero() {
		last = t
	}
	if last.IsZero() {
		last = first
	}
	source := o.str("source", "component")
	if source == "" {
		source = o.str("reportingComponent")
	}
	if host := o.str("source", "host"); host != "" {
		source += ", " + host
	}
	count := o.num("count")
	if n := o.num("series", "count"); n > 0 {
		count = n
	}
	return []any{
		age(last, now), o.str("type"), o.str("reason"),
		strings.ToLower(o.str("involvedObject", "kind")) + "/" + o.str("involvedObject", "name"),
		o.str("involvedObject", "fieldPath"), source, strings.TrimSpace(o.str("message")),
		age(first, now), count, o.str("metadata", "name"),
	}
}
