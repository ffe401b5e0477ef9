package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/shoal-dev/shoal/api"
)

// describeNodeCmd is `shoal describe node NAME`: kubectl's layout, with
// the node's roles, pod block, its pods and what they request.
func describeNodeCmd(ctx context.Context, c *client, w io.Writer, name string) error {
	var n api.Node
	if err := c.getJSON(ctx, "/api/v1/nodes/"+url.PathEscape(name), &n); err != nil {
		return err
	}
	var pods api.PodList
	q := url.Values{"fieldSelector": {"spec.nodeName=" + n.ObjectMeta.Name}}
	if err := c.getJSON(ctx, "/api/v1/pods?"+q.Encode(), &pods); err != nil {
		return fmt.Errorf("pods of node %s: %w", n.ObjectMeta.Name, err)
	}
	describeNode(w, &n, pods.Items, time.Now())
	return nil
}

func describeNode(w io.Writer, n *api.Node, pods []api.Pod, now time.Time) {
	pf := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	row := nodeRow(n, true)
	pf("Name:               %s\n", n.ObjectMeta.Name)
	pf("Roles:              %s\n", row[2])
	pf("Labels:             %s\n", describeMap(n.ObjectMeta.Labels, "                    "))
	pf("Annotations:        %s\n", describeMap(n.ObjectMeta.Annotations, "                    "))
	pf("CreationTimestamp:  %s\n", describeTime(&n.ObjectMeta.CreationTimestamp))
	taints := make([]string, 0, len(n.Spec.Taints))
	for i := range n.Spec.Taints {
		taints = append(taints, n.Spec.Taints[i].ToString())
	}
	if len(taints) == 0 {
		taints = []string{"<none>"}
	}
	pf("Taints:             %s\n", strings.Join(taints, "\n                    "))
	pf("Unschedulable:      %v\n", n.Spec.Unschedulable)
	pf("Conditions:\n")
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage")
	fmt.Fprintln(tw, "  ----\t------\t-----------------\t------------------\t------\t-------")
	for _, c := range n.Status.Conditions {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", c.Type, c.Status, describeTime(&c.LastHeartbeatTime), describeTime(&c.LastTransitionTime), c.Reason, c.Message)
	}
	tw.Flush()
	pf("Addresses:\n")
	for _, a := range n.Status.Addresses {
		pf("  %s:  %s\n", a.Type, a.Address)
	}
	pf("Capacity:\n%s", describeResources(n.Status.Capacity))
	pf("Allocatable:\n%s", describeResources(n.Status.Allocatable))
	pf("System Info:\n")
	pf("  Kubelet Version:            %s\n", orNone(n.Status.NodeInfo.KubeletVersion))
	pf("  Container Runtime Version:  %s\n", orNone(n.Status.NodeInfo.ContainerRuntimeVersion))
	pf("  Operating System:           %s\n", orNone(n.Status.NodeInfo.OperatingSystem))
	pf("PodCIDR:                      %s\n", orNone(n.Spec.PodCIDR))

	// The pods placement counts: bound here and not finished.
	var live []api.Pod
	for _, p := range pods {
		if p.Status.Phase != api.PodSucceeded && p.Status.Phase != api.PodFailed {
			live = append(live, p)
		}
	}
	pf("Non-terminated Pods:          (%d in total)\n", len(live))
	tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  Namespace\tName\tCPU Requests\tMemory Requests\tAge")
	fmt.Fprintln(tw, "  ---------\t----\t------------\t---------------\t---")
	cpuSum, memSum := resource.Quantity{}, resource.Quantity{}
	for i := range live {
		req := api.PodRequests(&live[i])
		cpu, mem := api.QuantityOf(req, api.ResourceCPU), api.QuantityOf(req, api.ResourceMemory)
		cpuSum.Add(cpu)
		memSum.Add(mem)
		age := "<unknown>"
		if t := live[i].ObjectMeta.CreationTimestamp; !t.IsZero() {
			age = shortAge(now.Sub(t.Time))
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", live[i].ObjectMeta.Namespace, live[i].ObjectMeta.Name, cpu.String(), mem.String(), age)
	}
	tw.Flush()
	pf("Allocated resources:\n")
	tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  Resource\tRequests\tAllocatable")
	fmt.Fprintln(tw, "  --------\t--------\t-----------")
	for _, r := range []struct {
		name api.ResourceName
		used resource.Quantity
	}{{api.ResourceCPU, cpuSum}, {api.ResourceMemory, memSum}} {
		alloc := api.QuantityOf(n.Status.Allocatable, r.name)
		fmt.Fprintf(tw, "  %s\t%s%s\t%s\n", r.name, r.used.String(), percentOf(r.used, alloc), alloc.String())
	}
	tw.Flush()
}

func describeResources(rl api.ResourceList) string {
	var b strings.Builder
	for _, name := range []string{string(api.ResourceCPU), string(api.ResourceMemory), string(api.ResourcePods)} {
		if q, ok := rl[api.ResourceName(name)]; ok {
			fmt.Fprintf(&b, "  %s:%s%s\n", name, strings.Repeat(" ", 10-len(name)), q.String())
		}
	}
	return b.String()
}

// percentOf is kubectl's " (25%)" after a request, empty when the node
// offers none of the resource.
func percentOf(used, of resource.Quantity) string {
	if of.IsZero() {
		return ""
	}
	return fmt.Sprintf(" (%d%%)", int64(float64(used.MilliValue())/float64(of.MilliValue())*100))
}
