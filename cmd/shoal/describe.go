package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/shoal-dev/shoal/api"
)

func newDescribeCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "describe (pod|node) NAME",
		Short:   "Show a pod (containers' states, events) or a node (conditions, pods, allocation) in detail",
		Example: "  shoal describe pod web\n  shoal describe node n1",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch args[0] {
			case "pod", "pods", "po":
			case "node", "nodes", "no":
				return describeNodeCmd(cmd.Context(), g.client(), cmd.OutOrStdout(), strings.TrimPrefix(args[1], "node/")) // cmd/shoal/describe_node.go
			default:
				return fmt.Errorf("describe: unsupported resource %q (supported: pod, node)", args[0])
			}
			name := strings.TrimPrefix(args[1], "pod/")
			c := g.client()
			ctx := cmd.Context()
			var p api.Pod
			if err := c.getJSON(ctx, podPath(namespaceOr(g.namespace), name), &p); err != nil {
				return err
			}
			events, err := podEvents(ctx, c, &p)
			if err != nil {
				return err
			}
			describePod(cmd.OutOrStdout(), &p, events, time.Now())
			return nil
		},
	}
}

// podEvents asks for the pod's events the way kubectl describe does: by
// field selector on the involved object.
func podEvents(ctx context.Context, c *client, p *api.Pod) ([]api.Event, error) {
	sel := "involvedObject.name=" + p.ObjectMeta.Name + ",involvedObject.namespace=" + p.ObjectMeta.Namespace
	if p.ObjectMeta.UID != "" {
		sel += ",involvedObject.uid=" + string(p.ObjectMeta.UID)
	}
	var list api.EventList
	path := "/api/v1/namespaces/" + url.PathEscape(p.ObjectMeta.Namespace) + "/events?" + url.Values{"fieldSelector": {sel}}.Encode()
	if err := c.getJSON(ctx, path, &list); err != nil {
		return nil, fmt.Errorf("events of pod %s: %w", p.ObjectMeta.Name, err)
	}
	return list.Items, nil
}

// describePod prints kubectl's describe layout for the fields shoal has.
func describePod(w io.Writer, p *api.Pod, events []api.Event, now time.Time) {
	pf := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	pf("Name:             %s\n", p.ObjectMeta.Name)
	pf("Namespace:        %s\n", p.ObjectMeta.Namespace)
	node := "<none>"
	if p.Spec.NodeName != "" {
		node = p.Spec.NodeName
		if p.Status.HostIP != "" {
			node += "/" + p.Status.HostIP
		}
	}
	pf("Node:             %s\n", node)
	if p.Status.StartTime != nil {
		pf("Start Time:       %s\n", describeTime(p.Status.StartTime))
	}
	pf("Labels:           %s\n", describeMap(p.ObjectMeta.Labels, "                  "))
	pf("Annotations:      %s\n", describeMap(p.ObjectMeta.Annotations, "                  "))
	pf("Status:           %s\n", orNone(string(p.Status.Phase)))
	if p.Status.Reason != "" {
		pf("Reason:           %s\n", p.Status.Reason)
	}
	if p.Status.Message != "" {
		pf("Message:          %s\n", p.Status.Message)
	}
	pf("IP:               %s\n", p.Status.PodIP)
	if p.Status.PodIP != "" {
		pf("IPs:\n  IP:  %s\n", p.Status.PodIP)
	}
	for _, o := range p.ObjectMeta.OwnerReferences {
		if o.Controller != nil && *o.Controller {
			pf("Controlled By:  %s/%s\n", o.Kind, o.Name)
		}
	}
	if len(p.Spec.InitContainers) > 0 {
		pf("Init Containers:\n")
		for _, c := range p.Spec.InitContainers {
			describeContainer(w, c, statusOf(p.Status.InitContainerStatuses, c.Name))
		}
	}
	pf("Containers:\n")
	for _, c := range p.Spec.Containers {
		describeContainer(w, c, statusOf(p.Status.ContainerStatuses, c.Name))
	}
	if len(p.Status.Conditions) > 0 {
		tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
		fmt.Fprintf(tw, "Conditions:\n  Type\tStatus\n")
		for _, c := range p.Status.Conditions {
			fmt.Fprintf(tw, "  %s \t%s \n", c.Type, c.Status)
		}
		tw.Flush()
	}
	if len(p.Spec.Volumes) > 0 {
		pf("Volumes:\n")
		for _, v := range p.Spec.Volumes {
			pf("  %s:\n", v.Name)
			describeVolume(w, v)
		}
	} else {
		pf("Volumes:                     <none>\n")
	}
	describeEvents(w, events, now)
}

func describeContainer(w io.Writer, c api.Container, cs *api.ContainerStatus) {
	pf := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	pf("  %s:\n", c.Name)
	if cs != nil && cs.ContainerID != "" {
		pf("    Container ID:  %s\n", cs.ContainerID)
	}
	pf("    Image:         %s\n", c.Image)
	if cs != nil {
		pf("    Image ID:      %s\n", cs.ImageID)
	}
	ports := []string{}
	for _, p := range c.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = "TCP"
		}
		ports = append(ports, fmt.Sprintf("%d/%s", p.ContainerPort, proto))
	}
	pf("    Port:          %s\n", orNone(strings.Join(ports, ", ")))
	for _, part := range []struct {
		title string
		list  []string
	}{{"Command", c.Command}, {"Args", c.Args}} {
		if len(part.list) > 0 {
			pf("    %s:\n", part.title)
			for _, a := range part.list {
				pf("      %s\n", a)
			}
		}
	}
	if cs != nil {
		describeState(w, "State:        ", cs.State)
		if cs.LastTerminationState.Terminated != nil || cs.LastTerminationState.Waiting != nil || cs.LastTerminationState.Running != nil {
			describeState(w, "Last State:   ", cs.LastTerminationState)
		}
		pf("    Ready:          %t\n", cs.Ready)
		pf("    Restart Count:  %d\n", cs.RestartCount)
	}
	for _, part := range []struct {
		title string
		list  api.ResourceList
	}{{"Limits", c.Resources.Limits}, {"Requests", c.Resources.Requests}} {
		if len(part.list) == 0 {
			continue
		}
		pf("    %s:\n", part.title)
		keys := make([]string, 0, len(part.list))
		for k := range part.list {
			keys = append(keys, string(k))
		}
		sort.Strings(keys)
		for _, k := range keys {
			q := part.list[api.ResourceName(k)]
			pf("      %s:  %s\n", k, q.String())
		}
	}
	describeProbes(w, c) // cmd/shoal/describe_probe.go
	if len(c.Env) == 0 {
		pf("    Environment:    <none>\n")
	} else {
		pf("    Environment:\n")
		for _, e := range c.Env {
			pf("      %s:  %s\n", e.Name, e.Value)
		}
	}
	if len(c.VolumeMounts) == 0 {
		pf("    Mounts:         <none>\n")
	} else {
		pf("    Mounts:\n")
		for _, m := range c.VolumeMounts {
			mode := "rw"
			if m.ReadOnly {
				mode = "ro"
			}
			pf("      %s from %s (%s)\n", m.MountPath, m.Name, mode)
		}
	}
}

func describeState(w io.Writer, title string, s api.ContainerState) {
	pf := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	switch {
	case s.Running != nil:
		pf("    %s  Running\n", title)
		pf("      Started:      %s\n", describeTime(&s.Running.StartedAt))
	case s.Terminated != nil:
		t := s.Terminated
		pf("    %s  Terminated\n", title)
		pf("      Reason:       %s\n", t.Reason)
		if t.Message != "" {
			pf("      Message:      %s\n", t.Message)
		}
		pf("      Exit Code:    %d\n", t.ExitCode)
		pf("      Started:      %s\n", describeTime(&t.StartedAt))
		pf("      Finished:     %s\n", describeTime(&t.FinishedAt))
	case s.Waiting != nil:
		pf("    %s  Waiting\n", title)
		pf("      Reason:       %s\n", s.Waiting.Reason)
		if s.Waiting.Message != "" {
			pf("      Message:      %s\n", s.Waiting.Message)
		}
	default:
		pf("    %s  <unknown>\n", title)
	}
}

// describeEvents prints the events table, or <none>; repeats show as
// "Age (xN over span)" as in kubectl.
func describeEvents(w io.Writer, events []api.Event, now time.Time) {
	if len(events) == 0 {
		fmt.Fprintf(w, "Events:                      <none>\n")
		return
	}
	sort.SliceStable(events, func(i, j int) bool {
		return !events[i].LastTimestamp.IsZero() && !events[j].LastTimestamp.IsZero() && events[i].LastTimestamp.Before(&events[j].LastTimestamp)
	})
	fmt.Fprintf(w, "Events:\n")
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "  Type\tReason\tAge\tFrom\tMessage\n")
	fmt.Fprintf(tw, "  ----\t------\t----\t----\t-------\n")
	for _, e := range events {
		age := "<unknown>"
		if !e.LastTimestamp.IsZero() {
			age = shortAge(now.Sub(e.LastTimestamp.Time))
			if e.Count > 1 && !e.FirstTimestamp.IsZero() {
				age = fmt.Sprintf("%s (x%d over %s)", age, e.Count, shortAge(now.Sub(e.FirstTimestamp.Time)))
			}
		}
		from := e.Source.Component
		if e.Source.Host != "" {
			from += ", " + e.Source.Host
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", e.Type, e.Reason, age, from, strings.TrimSpace(e.Message))
	}
	tw.Flush()
}

func shortAge(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < 2*time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < 2*time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

func statusOf(list []api.ContainerStatus, name string) *api.ContainerStatus {
	for i := range list {
		if list[i].Name == name {
			return &list[i]
		}
	}
	return nil
}

func describeTime(t *api.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return t.Time.Format(time.RFC1123Z)
}

func describeMap(m map[string]string, indent string) string {
	if len(m) == 0 {
		return "<none>"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lines := make([]string, len(keys))
	for i, k := range keys {
		lines[i] = k + "=" + m[k]
	}
	return strings.Join(lines, "\n"+indent)
}
