package agent

import (
	"fmt"
	"testing"

	"github.com/shoal-dev/shoal/api"
)

func TestNodesReadWithRolesAndAllocation(t *testing.T) {
	base := startAgent(t, "alloc", "2Gi")
	if code, st := send(t, "POST", base+"/api/v1/namespaces/default/pods", fmt.Sprintf(podYAML, "web", "1Gi")); code != 201 {
		t.Fatalf("create: HTTP %d %+v", code, st)
	}
	var n api.Node
	eventually(t, "the node shows the bound pod's request", func() bool {
		n = api.Node{}
		return getJSON(base+"/api/v1/nodes/alloc", &n) == nil && n.ObjectMeta.Annotations[api.AnnotationPods] == "1"
	})
	ann := n.ObjectMeta.Annotations
	if ann[api.AnnotationRoles] != "server,leader" || ann[api.AnnotationAllocatedMemory] != "1Gi" || ann[api.AnnotationAllocatedCPU] != "0" {
		t.Fatalf("annotations %v", ann)
	}
	var l api.NodeList
	if err := getJSON(base+"/api/v1/nodes", &l); err != nil || len(l.Items) != 1 || l.Items[0].ObjectMeta.Annotations[api.AnnotationAllocatedMemory] != "1Gi" {
		t.Fatalf("list: %v %+v", err, l.Items)
	}
}
