package apiserver

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
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
	return tableKind{
		columns: []tableColumn{
			col("Name", "string", nameDesc, 0),
			col("Ready", "string", "The aggregate readiness state of this pod for accepting traffic.", 0),
			col("Status", "string", "The aggregate status of the containers in this pod.", 0),
			col("Restarts", "string", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.", 0),
			col("Age", "string", ageDesc, 0),
			col("IP", "string", "IP address allocated to the pod. Routable at least within the cluster.", 1),
			col("Node", "string", "NodeName is a request to schedule this pod onto a specific node.", 1),
			col("Nominated Node", "string", "nominatedNodeName is set when this pod preempts other pods on the node.", 1),
			col("Readiness Gates", "string", "If specified, all readiness gates will be evaluated for pod readiness.", 1),
		},
		row: podRow,
	}
}

// podRow is Kubernetes' printPod for the fields shoal has.
func podRow(o jsonObj, now time.Time) []any {
	restarts, ready := 0, 0
	total := len(o.list("spec", "containers"))
	var lastRestart time.Time
	noteRestart := func(cs jsonObj) {
		if t := cs.time("lastState", "terminated", "finishedAt"); t.After(lastRestart) {
			lastRestart = t
		}
	}
	reason := o.str("status", "phase")
	if r := o.str("status", "reason"); r != "" {
		reason = r
	}
	initializing := false
	inits := o.list("status", "initContainerStatuses")
	for i, cs := range inits {
		restarts += int(cs.num("restartCount"))
		noteRestart(cs)
		term := cs.has("state", "terminated")
		switch {
		case term && cs.num("state", "terminated", "exitCode") == 0:
			continue
		case term:
			switch {
			case cs.str("state", "terminated", "reason") != "":
				reason = "Init:" + cs.str("state", "terminated", "reason")
			case cs.num("state", "terminated", "signal") != 0:
				reason = fmt.Sprintf("Init:Signal:%d", cs.num("state", "terminated", "signal"))
			default:
				reason = fmt.Sprintf("Init:ExitCode:%d", cs.num("state", "terminated", "exitCode"))
			}
		case cs.str("state", "waiting", "reason") != "" && cs.str("state", "waiting", "reason") != "PodInitializing":
			reason = "Init:" + cs.str("state", "waiting", "reason")
		default:
			reason = fmt.Sprintf("Init:%d/%d", i, len(o.list("spec", "initContainers")))
		}
		initializing = true
		break
	}
	if !initializing || conditionTrue(o, "Initialized") {
		restarts = 0
		running := false
		statuses := o.list("status", "containerStatuses")
		for i := len(statuses) - 1; i >= 0; i-- {
			cs := statuses[i]
			restarts += int(cs.num("restartCount"))
			noteRestart(cs)
			switch {
			case cs.str("state", "waiting", "reason") != "":
				reason = cs.str("state", "waiting", "reason")
			case cs.str("state", "terminated", "reason") != "":
				reason = cs.str("state", "terminated", "reason")
			case cs.has("state", "terminated") && cs.num("state", "terminated", "signal") != 0:
				reason = fmt.Sprintf("Signal:%d", cs.num("state", "terminated", "signal"))
			case cs.has("state", "terminated"):
				reason = fmt.Sprintf("ExitCode:%d", cs.num("state", "terminated", "exitCode"))
			case cs.get("ready") == true && cs.has("state", "running"):
				running = true
				ready++
			}
		}
		if reason == "Completed" && running {
			reason = "NotReady"
			if conditionTrue(o, "Ready") {
				reason = "Running"
			}
		}
	}
	if o.has("metadata", "deletionTimestamp") && reason != "Succeeded" && reason != "Failed" {
		reason = "Terminating"
	}
	restartsCell := strconv.Itoa(restarts)
	if restarts != 0 && !lastRestart.IsZero() {
		restartsCell = fmt.Sprintf("%d (%s ago)", restarts, age(lastRestart, now))
	}
	ip := o.str("status", "podIP")
	if ips := o.list("status", "podIPs"); len(ips) > 0 {
		ip = ips[0].str("ip")
	}
	return []any{
		o.str("metadata", "name"), fmt.Sprintf("%d/%d", ready, total), reason, restartsCell,
		age(o.time("metadata", "creationTimestamp"), now),
		orNone(ip), orNone(o.str("spec", "nodeName")), orNone(o.str("status", "nominatedNodeName")), "<none>",
	}
}

func conditionTrue(o jsonObj, typ string) bool {
	for _, c := range o.list("status", "conditions") {
		if c.str("type") == typ {
			return c.str("status") == "True"
		}
	}
	return false
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
	} else if _, ok := labels[serverLabel]; ok {
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

func replicationControllerTable() tableKind {
	return tableKind{columns: replicaColumns(), row: func(o jsonObj, now time.Time) []any {
		return replicaRow(o, now, formatLabels(o.strMap("spec", "selector")))
	}}
}

func replicaSetTable() tableKind {
	return tableKind{columns: replicaColumns(), row: func(o jsonObj, now time.Time) []any {
		return replicaRow(o, now, formatLabels(o.strMap("spec", "selector", "matchLabels")))
	}}
}

func replicaColumns() []tableColumn {
	return []tableColumn{
		col("Name", "string", nameDesc, 0),
		col("Desired", "integer", "Replicas is the number of desired replicas.", 0),
		col("Current", "integer", "Replicas is the most recently observed number of replicas.", 0),
		col("Ready", "integer", "The number of ready replicas for this replication controller.", 0),
		col("Age", "string", ageDesc, 0),
		col("Containers", "string", "Names of each container in the template.", 1),
		col("Images", "string", "Images referenced by each container in the template.", 1),
		col("Selector", "string", "Label selector for pods. Existing ReplicationControllers whose pods are selected by this will be the ones affected by this replication controller.", 1),
	}
}

func replicaRow(o jsonObj, now time.Time, selector string) []any {
	desired := int64(1)
	if o.has("spec", "replicas") {
		desired = o.num("spec", "replicas")
	}
	var names, images []string
	for _, c := range o.list("spec", "template", "spec", "containers") {
		names = append(names, c.str("name"))
		images = append(images, c.str("image"))
	}
	return []any{
		o.str("metadata", "name"), desired, o.num("status", "replicas"), o.num("status", "readyReplicas"),
		age(o.time("metadata", "creationTimestamp"), now),
		strings.Join(names, ","), strings.Join(images, ","), selector,
	}
}
