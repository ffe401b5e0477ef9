package e2e

import (
	"strings"
	"testing"
)

// configPod reads a ConfigMap and a Secret every way a pod can: env
// valueFrom (and the downward API), envFrom with a prefix, and volumes.
const configPod = `apiVersion: v1
kind: Pod
metadata:
  name: reader
  labels: {team: blue}
spec:
  containers:
  - name: app
    image: ` + image + `
    command: ["sh", "-c", "echo \"env MODE=$MODE PASS=$PASS CFG_MODE=$CFG_MODE POD=$POD NODE=$NODE IP=$IP EXPANDED=$(POD)\"; exec sleep 100000"]
    env:
    - {name: MODE, valueFrom: {configMapKeyRef: {name: app-config, key: MODE}}}
    - {name: PASS, valueFrom: {secretKeyRef: {name: creds, key: password}}}
    - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
    - {name: IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
    envFrom:
    - {prefix: CFG_, configMapRef: {name: app-config}}
    volumeMounts:
    - {name: config, mountPath: /etc/config}
    - {name: creds, mountPath: /etc/creds}
    - {name: info, mountPath: /etc/info}
  volumes:
  - name: config
    configMap: {name: app-config}
  - name: creds
    secret:
      secretName: creds
      items: [{key: password, path: db/password, mode: 0400}]
  - name: info
    projected:
      sources:
      - downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}
      - configMap: {name: app-config, items: [{key: MODE, path: mode}]}
`

// TestConfigMaps drives ConfigMaps and Secrets into a pod through the
// machine's kubectl: create configmap from a literal and a file, create
// secret, a pod that reads them as env and as files, then an update of the
// ConfigMap reaches the mounted files and not the environment.
func TestConfigMaps(t *testing.T) {
	k := startKubectlFleet(t)
	greeting := k.file("greeting.txt", "hello\n")
	if out := k.ok("create", "configmap", "app-config", "--from-literal=MODE=fast", "--from-file="+greeting); !strings.Contains(out, "configmap/app-config created") {
		t.Fatalf("kubectl create configmap:\n%s", out)
	}
	k.ok("create", "secret", "generic", "creds", "--from-literal=password=hunter2")
	if got := strings.Join(strings.Fields(k.ok("get", "cm", "app-config")), " "); !strings.HasPrefix(got, "NAME DATA AGE app-config 2 ") {
		t.Fatalf("kubectl get cm: %q", got)
	}
	k.ok("describe", "configmap", "app-config")

	k.ok("apply", "-f", k.file("reader.yaml", configPod))
	k.eventually("the pod running", func(out string) bool { return strings.Contains(out, "Running") }, "get", "pod", "reader")
	ip := strings.TrimSpace(k.ok("get", "pod", "reader", "-o", "jsonpath={.status.podIP}"))
	node := strings.TrimSpace(k.ok("get", "pod", "reader", "-o", "jsonpath={.spec.nodeName}"))
	want := "env MODE=fast PASS=hunter2 CFG_MODE=fast POD=reader NODE=" + node + " IP=" + ip + " EXPANDED=reader"
	k.eventually("the environment in the log", func(out string) bool { return strings.Contains(out, want) }, "logs", "reader")
	if out := k.ok("exec", "reader", "--", "cat", "/etc/config/greeting.txt"); out != "hello\n" {
		t.Fatalf("greeting.txt: %q", out)
	}
	if out := k.ok("exec", "reader", "--", "cat", "/etc/creds/db/password"); out != "hunter2" {
		t.Fatalf("db/password: %q", out)
	}
	if out := k.ok("exec", "reader", "--", "cat", "/etc/info/labels", "/etc/info/mode"); out != `team="blue"fast` {
		t.Fatalf("projected labels and mode: %q", out)
	}
	if out := k.ok("exec", "reader", "--", "stat", "-L", "-c", "%a", "/etc/creds/db/password"); strings.TrimSpace(out) != "400" {
		t.Fatalf("mode of db/password: %q", out)
	}
	k.fails("exec", "reader", "--", "sh", "-c", "echo x > /etc/config/new")

	// An update reaches the mounted files, not the environment.
	k.ok("apply", "-f", k.file("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-config}\ndata:\n  MODE: slow\n  greeting.txt: bonjour\n"))
	k.eventually("the new greeting in the volume", func(out string) bool { return out == "bonjour" }, "exec", "reader", "--", "cat", "/etc/config/greeting.txt")
	k.eventually("the new mode in the projected volume", func(out string) bool { return out == "slow" }, "exec", "reader", "--", "cat", "/etc/info/mode")
	if out := k.ok("exec", "reader", "--", "sh", "-c", "echo $MODE $CFG_MODE"); strings.TrimSpace(out) != "fast fast" {
		t.Fatalf("env after the update: %q, want the values of the container's creation", out)
	}
	if out := k.ok("get", "pod", "reader", "-o", "jsonpath={.status.containerStatuses[0].restartCount}"); out != "0" {
		t.Fatalf("the update restarted the container: restartCount %s", out)
	}

	// A pod whose key is missing waits with CreateContainerConfigError
	// naming it, and starts once the key exists.
	k.ok("run", "waiter", "--image="+image, "--restart=Never", "--overrides",
		`{"spec":{"containers":[{"name":"waiter","image":"`+image+`","command":["sh","-c","echo LATE=$LATE; exec sleep 100000"],"env":[{"name":"LATE","valueFrom":{"configMapKeyRef":{"name":"app-config","key":"LATE"}}}]}]}}`)
	k.eventually("CreateContainerConfigError naming the key", func(out string) bool {
		return strings.Contains(out, "CreateContainerConfigError") && strings.Contains(out, "couldn't find key LATE in ConfigMap default/app-config")
	}, "get", "pod", "waiter", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason} {.status.containerStatuses[0].state.waiting.message}")
	k.ok("apply", "-f", k.file("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-config}\ndata:\n  MODE: slow\n  greeting.txt: bonjour\n  LATE: now\n"))
	k.eventually("the waiter running with the key", func(out string) bool { return strings.Contains(out, "LATE=now") }, "logs", "waiter")

	k.ok("delete", "pod", "reader", "waiter", "--grace-period=1")
	k.ok("delete", "configmap", "app-config")
	k.fails("get", "configmap", "app-config")
}
