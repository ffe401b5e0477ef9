package e2e

import (
	"net/netip"
	"regexp"
	"strings"
	"testing"
)

// The lab's agents run with the default service range.
const serviceRange = "10.96.0.0/16"

// TestServicesThroughKubectl exposes a running pod with the machine's
// kubectl and follows the Service's endpoints as the leader's controller
// keeps them: the ClusterIP comes from the service range, the pod's
// IP:targetPort shows up, a second matching pod joins, deleting the
// Service takes its endpoints with it, and bad Services are refused
// naming the field with nothing stored.
func TestServicesThroughKubectl(t *testing.T) {
	k := startKubectlFleet(t)

	k.ok("create", "-f", k.file("web.yaml", kubePod("web", "app: web")))
	k.eventually("web Running", func(out string) bool { return kubeRow("web", "1/1", "Running").MatchString(out) }, "get", "pods")
	webIP := k.ok("get", "pod", "web", "-o", "jsonpath={.status.podIP}")
	var clusterIP string

	t.Run("expose a pod", func(t *testing.T) {
		k.t = t
		if out := k.ok("expose", "pod", "web", "--port", "80", "--target-port", "8080"); !strings.Contains(out, "service/web exposed") {
			t.Fatalf("expose:\n%s", out)
		}
		wide := k.ok("get", "svc", "-o", "wide")
		kubeMatch(t, wide, kubeRow("NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR"))
		kubeMatch(t, wide, kubeRow("web", "ClusterIP", `10\.96\.\d+\.\d+`, "<none>", "80/TCP", `\S+`, "app=web"))
		clusterIP = k.ok("get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}")
		if ip, err := netip.ParseAddr(clusterIP); err != nil || !netip.MustParsePrefix(serviceRange).Contains(ip) {
			t.Errorf("clusterIP %q is not in the service range %s", clusterIP, serviceRange)
		}
	})

	t.Run("endpoints follow the ready pods", func(t *testing.T) {
		k.t = t
		k.eventually("web's pod IP and target port", kubeContains(webIP+":8080"), "get", "endpoints", "web")
		slices := k.eventually("the slice of web", kubeContains(webIP), "get", "endpointslices", "-l", "kubernetes.io/service-name=web")
		kubeMatch(t, slices, kubeRow("NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"))
		kubeMatch(t, slices, kubeRow(`web-\S+`, "IPv4", "8080", regexp.QuoteMeta(webIP)))

		k.ok("create", "-f", k.file("web2.yaml", kubePod("web2", "app: web")))
		k.eventually("web2 Running", func(out string) bool { return kubeRow("web2", "1/1", "Running").MatchString(out) }, "get", "pods")
		web2IP := k.ok("get", "pod", "web2", "-o", "jsonpath={.status.podIP}")
		k.eventually("both pods", kubeContains(webIP+":8080", web2IP+":8080"), "get", "endpoints", "web")

		desc := k.ok("describe", "svc", "web")
		for _, re := range []*regexp.Regexp{kubeRow("Name:", "web"), kubeRow("Selector:", "app=web"), kubeRow("Type:", "ClusterIP"),
			kubeRow("IP:", regexp.QuoteMeta(clusterIP)), kubeRow("TargetPort:", "8080/TCP"), kubeRow("Endpoints:", `\S*`+regexp.QuoteMeta(webIP)+`:8080\S*`)} {
			if !re.MatchString(desc) {
				t.Errorf("describe svc lacks %s:\n%s", re, desc)
			}
		}
		if out := k.fails("delete", "endpoints", "web"); !strings.Contains(out, "MethodNotAllowed") || !strings.Contains(out, "endpoints controller") {
			t.Errorf("delete endpoints:\n%s", out)
		}
	})

	t.Run("create service and apply", func(t *testing.T) {
		k.t = t
		if out := k.ok("create", "service", "clusterip", "other", "--tcp=81:8080"); !strings.Contains(out, "service/other created") {
			t.Errorf("create service clusterip:\n%s", out)
		}
		kubeMatch(t, k.ok("get", "svc", "other"), kubeRow("other", "ClusterIP", `10\.96\.\d+\.\d+`, "<none>", "81/TCP"))
		manifest := `apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  selector: {app: web}
  ports:
  - name: http
    port: 8000
    targetPort: 8080
`
		f := k.file("api.yaml", manifest)
		if out := k.ok("apply", "-f", f); !strings.Contains(out, "service/api created") {
			t.Errorf("first apply:\n%s", out)
		}
		// Applied again without a clusterIP: the allocated one stays.
		if out := k.ok("apply", "-f", f); !strings.Contains(out, "service/api unchanged") {
			t.Errorf("second apply:\n%s", out)
		}
		before := k.ok("get", "svc", "api", "-o", "jsonpath={.spec.clusterIP}")
		if out := k.ok("apply", "-f", k.file("api.yaml", strings.Replace(manifest, "port: 8000", "port: 8001", 1))); !strings.Contains(out, "service/api configured") {
			t.Errorf("changed apply:\n%s", out)
		}
		kubeMatch(t, k.ok("get", "svc", "api"), kubeRow("api", "ClusterIP", regexp.QuoteMeta(before), "<none>", "8001/TCP"))
		k.eventually("api's endpoints", kubeContains(webIP+":8080"), "get", "endpoints", "api")
		k.ok("delete", "-f", f)
		k.ok("delete", "svc", "other")
	})

	t.Run("bad services are refused", func(t *testing.T) {
		k.t = t
		bad := func(spec string) string {
			return "apiVersion: v1\nkind: Service\nmetadata:\n  name: bad\nspec:\n  selector: {app: web}\n" + spec
		}
		for _, tc := range []struct{ name, spec, field string }{
			{"port 70000", "  ports:\n  - port: 70000\n", "spec.ports[0].port"},
			{"LoadBalancer", "  type: LoadBalancer\n  ports:\n  - port: 80\n", "spec.type"},
			{"clusterIP outside the range", "  clusterIP: 10.200.0.5\n  ports:\n  - port: 80\n", "spec.clusterIP"},
		} {
			out := k.fails("create", "-f", k.file("bad.yaml", bad(tc.spec)))
			if !strings.Contains(out, `The Service "bad" is invalid: `+tc.field) {
				t.Errorf("%s:\n%s", tc.name, out)
			}
		}
		if out := k.fails("get", "svc", "bad"); !strings.Contains(out, `services "bad" not found`) {
			t.Errorf("after the refused creates:\n%s", out)
		}
	})

	t.Run("deleting the service removes its endpoints", func(t *testing.T) {
		k.t = t
		if out := k.ok("delete", "svc", "web"); !strings.Contains(out, `service "web" deleted`) {
			t.Errorf("delete svc:\n%s", out)
		}
		if out := k.fails("get", "endpoints", "web"); !strings.Contains(out, `endpoints "web" not found`) {
			t.Errorf("endpoints after the Service went:\n%s", out)
		}
		if out := k.ok("get", "endpointslices", "-l", "kubernetes.io/service-name=web"); !strings.Contains(out, "No resources found") {
			t.Errorf("slices after the Service went:\n%s", out)
		}
	})
}
