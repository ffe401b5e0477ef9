package api

import (
	"strings"
	"testing"
)

// twoContainers is the seed's shared-volume example with its typo fixed
// (and busybox instead of nginx/debian), plus an init container and probes.
const twoContainers = `apiVersion: v1
kind: Pod
metadata:
  name: two-containers
spec:
  restartPolicy: Never
  volumes:
  - name: shared-data
    emptyDir: {}
  - name: host
    hostPath: {path: /data, type: DirectoryOrCreate}
  initContainers:
  - name: prepare
    image: busybox:1
    command: ["sh", "-c", "echo hi > /pod-data/index.html"]
    volumeMounts: [{name: shared-data, mountPath: /pod-data}]
  containers:
  - name: web
    image: busybox:1
    ports: [{name: http, containerPort: 8080}]
    volumeMounts:
    - name: shared-data
      mountPath: /www
      readOnly: true
    livenessProbe:
      httpGet: {path: /index.html, port: http, httpHeaders: [{name: X-Probe, value: "1"}]}
      initialDelaySeconds: 2
    readinessProbe:
      tcpSocket: {port: 8080}
  - name: writer
    image: busybox:1
    volumeMounts:
    - {name: shared-data, mountPath: /pod-data, subPath: sub}
    - {name: host, mountPath: /host}
    startupProbe:
      exec: {command: ["true"]}
`

func decodePod(t *testing.T, manifest string) (*Pod, error) {
	t.Helper()
	objs, err := Decode(strings.NewReader(manifest))
	if err != nil {
		return nil, err
	}
	return objs[0].(*Pod), nil
}

func TestDecodeVolumesInitContainersAndProbesWithDefaults(t *testing.T) {
	p, err := decodePod(t, twoContainers)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if len(p.Spec.Volumes) != 2 || p.Spec.Volumes[0].EmptyDir == nil || HostPathType(p.Spec.Volumes[1].HostPath) != HostPathDirectoryOrCreate {
		t.Fatalf("volumes %+v", p.Spec.Volumes)
	}
	if len(p.Spec.InitContainers) != 1 || p.Spec.InitContainers[0].ImagePullPolicy != "IfNotPresent" {
		t.Fatalf("init containers not decoded and defaulted: %+v", p.Spec.InitContainers)
	}
	lp := p.Spec.Containers[0].LivenessProbe
	if lp == nil || lp.HTTPGet == nil || lp.PeriodSeconds != 10 || lp.TimeoutSeconds != 1 || lp.SuccessThreshold != 1 || lp.FailureThreshold != 3 || lp.HTTPGet.Scheme != "HTTP" {
		t.Fatalf("liveness probe not defaulted like Kubernetes: %+v", lp)
	}
	if port, ok := ResolvePort(lp.HTTPGet.Port, &p.Spec.Containers[0]); !ok || port != 8080 {
		t.Fatalf("named port resolved to %d, %v", port, ok)
	}
	if rp := p.Spec.Containers[0].ReadinessProbe; isName(rp.TCPSocket.Port) || rp.TCPSocket.Port.IntVal != 8080 {
		t.Fatalf("numeric port %+v", rp.TCPSocket.Port)
	}
}

func TestValidatePodFieldsNameTheFieldLikeKubernetes(t *testing.T) {
	cases := map[string]struct{ from, to, want string }{
		"seed typo shard-data": {"- name: shared-data\n    emptyDir: {}", "- name: shard-data\n    emptyDir: {}",
			`spec.containers[0].volumeMounts[0].name: invalid value "shared-data": no volume of that name (volumes: host, shard-data)`},
		"relative mountPath":       {"mountPath: /www", "mountPath: www", `spec.containers[0].volumeMounts[0].mountPath: invalid value "www": must be an absolute path`},
		"duplicate volume":         {"- name: host\n", "- name: shared-data\n", `spec.volumes[1].name: invalid value "shared-data": duplicate volume name`},
		"two sources":              {"emptyDir: {}", "emptyDir: {}\n    hostPath: {path: /x}", "spec.volumes[0]: invalid value \"shared-data\": must have exactly one volume source"},
		"no source":                {"emptyDir: {}", "", "must have exactly one volume source (emptyDir, hostPath, configMap, secret, downwardAPI or projected), has 0"},
		"bad volume name":          {"- name: host\n", "- name: Host_1\n", `spec.volumes[1].name: invalid value "Host_1"`},
		"relative hostPath":        {"path: /data", "path: data", `spec.volumes[1].hostPath.path: invalid value "data": must be an absolute path`},
		"bad hostPath type":        {"type: DirectoryOrCreate", "type: Dir", `spec.volumes[1].hostPath.type: invalid value "Dir"`},
		"emptyDir medium":          {"emptyDir: {}", "emptyDir: {medium: HugePages}", `spec.volumes[0].emptyDir.medium: invalid value "HugePages": not supported by shoal`},
		"disk sizeLimit":           {"emptyDir: {}", "emptyDir: {sizeLimit: 1Gi}", `spec.volumes[0].emptyDir.sizeLimit: invalid value "1Gi": not supported by shoal on the node's disk`},
		"subPath escapes":          {"subPath: sub", "subPath: ../x", `spec.containers[1].volumeMounts[0].subPath: invalid value "../x": must not contain '..'`},
		"two probe handlers":       {"exec: {command: [\"true\"]}", "exec: {command: [\"true\"]}\n      tcpSocket: {port: 1}", "spec.containers[1].startupProbe: must have exactly one handler (exec, httpGet or tcpSocket), has 2"},
		"no probe handler":         {"exec: {command: [\"true\"]}", "periodSeconds: 5", "spec.containers[1].startupProbe: must have exactly one handler"},
		"liveness success > 1":     {"initialDelaySeconds: 2", "successThreshold: 2", `spec.containers[0].livenessProbe.successThreshold: invalid value "2": must be 1`},
		"probe port range":         {"tcpSocket: {port: 8080}", "tcpSocket: {port: 70000}", `spec.containers[0].readinessProbe.tcpSocket.port: invalid value "70000": must be between 1 and 65535`},
		"unknown port name":        {"port: http,", "port: web,", `spec.containers[0].livenessProbe.httpGet.port: invalid value "web": no port of that name`},
		"negative delay":           {"initialDelaySeconds: 2", "initialDelaySeconds: -1", `livenessProbe.initialDelaySeconds: invalid value "-1": must be greater than or equal to 0`},
		"probe host":               {"path: /index.html,", "path: /index.html, host: 10.0.0.1,", `httpGet.host: invalid value "10.0.0.1": not supported by shoal`},
		"ftp probe":                {"path: /index.html,", "path: /index.html, scheme: FTP,", `httpGet.scheme: invalid value "FTP": must be HTTP or HTTPS`},
		"probe on init":            {"volumeMounts: [{name: shared-data, mountPath: /pod-data}]", "volumeMounts: [{name: shared-data, mountPath: /pod-data}]\n    readinessProbe: {exec: {command: [x]}}", "spec.initContainers[0].readinessProbe: must not be set for init containers"},
		"init mount typo":          {"[{name: shared-data, mountPath: /pod-data}]", "[{name: shard-data, mountPath: /pod-data}]", `spec.initContainers[0].volumeMounts[0].name: invalid value "shard-data": no volume of that name (volumes: host, shared-data)`},
		"init name clash":          {"- name: prepare", "- name: web", `spec.containers[0].name: invalid value "web": duplicate container name (also spec.initContainers[0].name)`},
		"pod seLinux":              {"restartPolicy: Never", "restartPolicy: Never\n  securityContext: {seLinuxOptions: {level: s0}}", "spec.securityContext.seLinuxOptions: not supported by shoal"},
		"pod runAsUser":            {"restartPolicy: Never", "restartPolicy: Never\n  securityContext: {runAsUser: -1}", `spec.securityContext.runAsUser: invalid value "-1": must be between 0 and 2147483647`},
		"localhost seccomp":        {"restartPolicy: Never", "restartPolicy: Never\n  securityContext: {seccompProfile: {type: Localhost, localhostProfile: x.json}}", "spec.securityContext.seccompProfile.localhostProfile: not supported by shoal"},
		"unknown capability":       {"- name: writer\n", "- name: writer\n    securityContext: {capabilities: {add: [NET_ADMN]}}\n", `spec.containers[1].securityContext.capabilities.add[0]: invalid value "NET_ADMN": not a Linux capability`},
		"privileged no escalation": {"- name: writer\n", "- name: writer\n    securityContext: {privileged: true, allowPrivilegeEscalation: false}\n", "spec.containers[1].securityContext: cannot set `allowPrivilegeEscalation` to false and `privileged` to true"},
		"container procMount":      {"- name: writer\n", "- name: writer\n    securityContext: {procMount: Unmasked}\n", "spec.containers[1].securityContext.procMount: not supported by shoal"},
		"pod anti-affinity key":    {"restartPolicy: Never", "restartPolicy: Never\n  affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{labelSelector: {matchLabels: {app: web}}}]}}", "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: can not be empty"},
		"namespaceSelector":        {"restartPolicy: Never", "restartPolicy: Never\n  affinity: {podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: zone, namespaceSelector: {matchLabels: {a: b}}}]}}", "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].namespaceSelector: not supported by shoal"},
		"spread maxSkew":           {"restartPolicy: Never", "restartPolicy: Never\n  topologySpreadConstraints: [{maxSkew: 0, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}]", `spec.topologySpreadConstraints[0].maxSkew: invalid value "0": must be greater than zero`},
		"spread when":              {"restartPolicy: Never", "restartPolicy: Never\n  topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: Sometimes}]", `spec.topologySpreadConstraints[0].whenUnsatisfiable: invalid value "Sometimes"`},
		"spread minDomains":        {"restartPolicy: Never", "restartPolicy: Never\n  topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, minDomains: 2}]", "spec.topologySpreadConstraints[0].minDomains: not supported by shoal"},
		"node affinity no term":    {"restartPolicy: Never", "restartPolicy: Never\n  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: []}}}", "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: must have at least one node selector term"},
		"node affinity operator": {"restartPolicy: Never", "restartPolicy: Never\n  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: disk, operator: Near, values: [ssd]}]}]}}}",
			`spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator: invalid value "Near"`},
		"node affinity Gt": {"restartPolicy: Never", "restartPolicy: Never\n  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: cores, operator: Gt, values: [many]}]}]}}}",
			`nodeSelectorTerms[0].matchExpressions[0].values[0]: invalid value "many"`},
		"node affinity weight": {"restartPolicy: Never", "restartPolicy: Never\n  affinity: {nodeAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 0, preference: {matchExpressions: [{key: a, operator: Exists}]}}]}}",
			`spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: invalid value "0": must be in the range 1-100`},
		"toleration no key":      {"restartPolicy: Never", "restartPolicy: Never\n  tolerations: [{value: x}]", "spec.tolerations[0].operator: must be Exists when key is empty"},
		"toleration operator":    {"restartPolicy: Never", "restartPolicy: Never\n  tolerations: [{key: a, operator: Lt, value: \"1\"}]", `spec.tolerations[0].operator: invalid value "Lt": must be Equal or Exists`},
		"toleration exists val":  {"restartPolicy: Never", "restartPolicy: Never\n  tolerations: [{key: a, operator: Exists, value: x}]", `spec.tolerations[0].value: invalid value "x": must be empty when operator is Exists`},
		"toleration effect":      {"restartPolicy: Never", "restartPolicy: Never\n  tolerations: [{key: a, effect: NoRun}]", `spec.tolerations[0].effect: invalid value "NoRun"`},
		"toleration seconds":     {"restartPolicy: Never", "restartPolicy: Never\n  tolerations: [{key: a, effect: NoSchedule, tolerationSeconds: 5}]", `spec.tolerations[0].tolerationSeconds: invalid value "5": only a toleration of effect NoExecute`},
		"toleration bad key":     {"restartPolicy: Never", "restartPolicy: Never\n  tolerations: [{key: \"a b\", operator: Exists}]", `spec.tolerations[0].key: invalid value "a b"`},
		"serviceAccountName":     {"restartPolicy: Never", "restartPolicy: Never\n  serviceAccountName: Bad_Name", `spec.serviceAccountName: invalid value "Bad_Name"`},
		"serviceAccount differs": {"restartPolicy: Never", "restartPolicy: Never\n  serviceAccountName: a\n  serviceAccount: b", `spec.serviceAccount: invalid value "b": must equal serviceAccountName (a)`},
		"lifecycle tcpSocket":    {"- name: writer\n", "- name: writer\n    lifecycle: {preStop: {tcpSocket: {port: 1}}}\n", "spec.containers[1].lifecycle.preStop.tcpSocket: not supported by shoal"},
		"nfs volume":             {"emptyDir: {}", "nfs: {server: s, path: /x}", "spec.volumes[0].nfs: not supported by shoal"},
		"grpc probe":             {"exec: {command: [\"true\"]}", "grpc: {port: 1}", "spec.containers[1].startupProbe.grpc: not supported by shoal"},
		"schedulerName":          {"restartPolicy: Never", "restartPolicy: Never\n  schedulerName: my-scheduler", `spec.schedulerName: invalid value "my-scheduler": only default-scheduler`},
		"termination policy":     {"- name: writer\n", "- name: writer\n    terminationMessagePolicy: Always\n", `spec.containers[1].terminationMessagePolicy: invalid value "Always": must be File or FallbackToLogsOnError`},
		"typo still unknown":     {"restartPolicy: Never", "restartPolicy: Never\n  volumez: []", "spec.volumez: unknown field"},
		"unsupported in probe?":  {"initialDelaySeconds: 2", "initialDelaySecs: 2", "spec.containers[0].livenessProbe.initialDelaySecs: unknown field"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			in := strings.Replace(twoContainers, c.from, c.to, 1)
			if in == twoContainers {
				t.Fatalf("test case did not change the manifest")
			}
			_, err := decodePod(t, in)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, c.want)
			}
		})
	}
}

func TestIntOrStringRoundTripsBothForms(t *testing.T) {
	for _, in := range []string{`8080`, `"http"`} {
		var v IntOrString
		if err := v.UnmarshalJSON([]byte(in)); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		out, _ := v.MarshalJSON()
		if string(out) != in {
			t.Errorf("%s came back as %s", in, out)
		}
	}
	var v IntOrString
	if err := v.UnmarshalJSON([]byte(`8080.5`)); err == nil {
		t.Error("a fractional port was accepted")
	}
}

// kubectl run sends this pod (kubectl 1.3x, client side): dnsPolicy
// ClusterFirst, empty resources and status. It must decode unchanged.
func TestKubectlRunPodDecodes(t *testing.T) {
	const run = `apiVersion: v1
kind: Pod
metadata:
  creationTimestamp: null
  labels: {run: t1}
  name: t1
spec:
  containers:
  - args: ["sleep", "1000"]
    image: shoal.local/busybox:1
    name: t1
    resources: {}
  dnsPolicy: ClusterFirst
  restartPolicy: Always
status: {}
`
	p, err := decodePod(t, run)
	if err != nil {
		t.Fatal(err)
	}
	if p.Spec.DNSPolicy != DNSClusterFirst {
		t.Fatalf("dnsPolicy = %q, want it kept as ClusterFirst", p.Spec.DNSPolicy)
	}
}

// The fields a pod read back from Kubernetes carries by default decode as
// documented no-ops, so such a manifest applies unchanged.
func TestKubernetesDefaultsDecode(t *testing.T) {
	in := strings.Replace(twoContainers, "restartPolicy: Never", "restartPolicy: Never\n  schedulerName: default-scheduler\n  enableServiceLinks: true\n  priority: 0", 1)
	in = strings.Replace(in, "- name: writer\n", "- name: writer\n    terminationMessagePath: /dev/termination-log\n    terminationMessagePolicy: File\n", 1)
	if _, err := decodePod(t, in); err != nil {
		t.Fatalf("a pod with Kubernetes' defaults: %v", err)
	}
}
