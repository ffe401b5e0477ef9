package api

import (
	"strings"
	"testing"
)

const coScheduled = `apiVersion: v1
kind: Pod
metadata:
  name: app-with-logs
  labels: {app: web}
spec:
  containers:
  - name: app
    image: busybox:1
    command: ["sleep", "3600"]
    ports: [{containerPort: 8080}]
    resources: {requests: {memory: 1Gi}}
  - name: log-collector
    image: busybox:1
    resources: {requests: {memory: 512Mi, cpu: 500m}}
`

func TestDecodeCoScheduledPodSumsRequests(t *testing.T) {
	objs, err := Decode(strings.NewReader(coScheduled))
	if err != nil {
		t.Fatal(err)
	}
	p := objs[0].(*Pod)
	if p.ObjectMeta.Namespace != "default" || p.Spec.RestartPolicy != "Always" || p.Spec.Containers[0].Ports[0].Protocol != "TCP" {
		t.Fatalf("defaults not applied: %+v", p)
	}
	req := PodRequests(p)
	mem := QuantityOf(req, ResourceMemory)
	if mem.String() != "1536Mi" {
		t.Fatalf("memory request = %s, want 1536Mi", mem.String())
	}
	cpu := QuantityOf(req, ResourceCPU)
	if cpu.MilliValue() != 500 {
		t.Fatalf("cpu request = %s, want 500m", cpu.String())
	}
}

func TestDecodeRejectsUnknownFieldWithPath(t *testing.T) {
	in := strings.Replace(coScheduled, "    image: busybox:1\n    resources: {requests: {memory: 512Mi, cpu: 500m}}",
		"    image: busybox:1\n    imagePullPolicyy: Always", 1)
	_, err := Decode(strings.NewReader(in))
	if err == nil || !strings.Contains(err.Error(), "spec.containers[1].imagePullPolicyy: unknown field") {
		t.Fatalf("err = %v, want the unknown field named with its path", err)
	}
}

func TestDecodeManyDocumentsAndList(t *testing.T) {
	two := coScheduled + "---\n# a comment\n---\n" + strings.Replace(coScheduled, "app-with-logs", "second", 1)
	objs, err := Decode(strings.NewReader(two))
	if err != nil || len(objs) != 2 {
		t.Fatalf("multi-doc: %d objects, err %v", len(objs), err)
	}
	list := `{"apiVersion":"v1","kind":"List","items":[
	  {"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":{"containers":[{"name":"c","image":"i:1"}]}},
	  {"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}}]}`
	objs, err = Decode(strings.NewReader(list))
	if err != nil || len(objs) != 2 {
		t.Fatalf("list: %d objects, err %v", len(objs), err)
	}
	if _, ok := objs[1].(*Node); !ok {
		t.Fatalf("items[1] = %T, want *Node", objs[1])
	}
	bad := strings.Replace(list, `"name":"c"`, `"name":"c","bogus":1`, 1)
	if _, err := Decode(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "items[0]") || !strings.Contains(err.Error(), "spec.containers[0].bogus: unknown field") {
		t.Fatalf("err = %v", err)
	}
}

func TestValidateNamesTheField(t *testing.T) {
	cases := map[string]struct{ from, to, want string }{
		"bad name":               {"name: app-with-logs", "name: App_With_Logs", "metadata.name"},
		"duplicate names":        {"name: log-collector", "name: app", "spec.containers[1].name: invalid value \"app\": duplicate container name"},
		"same port":              {"image: busybox:1\n    resources: {requests: {memory: 512Mi, cpu: 500m}}", "image: busybox:1\n    ports: [{containerPort: 8080}]", "spec.containers[1].ports[0].containerPort: invalid value \"8080/TCP\": port already claimed by spec.containers[0].ports[0].containerPort"},
		"bad quantity":           {"memory: 1Gi", "memory: 1Gibbons", "spec.containers[0].resources.requests.memory"},
		"mistyped port":          {"containerPort: 8080", "containerPort: eighty", "spec.containers[0].ports[0].containerPort: expected an integer, got a string"},
		"restart policy":         {"spec:\n", "spec:\n  restartPolicy: Sometimes\n", "spec.restartPolicy: invalid value \"Sometimes\""},
		"None without dnsConfig": {"spec:\n", "spec:\n  dnsPolicy: None\n", "spec.dnsConfig: required when dnsPolicy is None"},
		"wrong kind":             {"kind: Pod", "kind: Deployment", "kind: invalid value \"v1/Deployment\": unsupported kind"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			in := strings.Replace(coScheduled, c.from, c.to, 1)
			if in == coScheduled {
				t.Fatalf("test case did not change the manifest")
			}
			_, err := Decode(strings.NewReader(in))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestDecodeRefusesDuplicateKeysAndEmptyInput(t *testing.T) {
	if _, err := Decode(strings.NewReader("apiVersion: v1\nkind: Pod\nkind: Pod\n")); err == nil {
		t.Fatal("duplicate key accepted")
	}
	if _, err := Decode(strings.NewReader("# nothing\n")); err == nil {
		t.Fatal("empty manifest accepted")
	}
}

func TestLimitsBecomeRequestsWhenRequestsAreAbsent(t *testing.T) {
	in := strings.Replace(coScheduled, "resources: {requests: {memory: 1Gi}}", "resources: {limits: {memory: 256Mi}}", 1)
	objs, err := Decode(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	q := QuantityOf(objs[0].(*Pod).Spec.Containers[0].Resources.Requests, ResourceMemory)
	if q.String() != "256Mi" {
		t.Fatalf("request = %s", q.String())
	}
}
