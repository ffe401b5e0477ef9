package apiserver

import (
	"strings"
	"testing"
)

// kubectl create serviceaccount, get sa, describe, a pod naming a
// missing ServiceAccount refused as Kubernetes' admission refuses it, and
// delete, against the handler on a one-seat state.
func TestKubectlServesServiceAccountsAgainstTheHandler(t *testing.T) {
	base, seat := serviceAPI(t, "")
	run, _ := kubectlAgainst(t, base)
	expect := func(wantErr bool, want string, args ...string) {
		t.Helper()
		out, err := run(args...)
		if (err != nil) != wantErr || !strings.Contains(out, want) {
			t.Errorf("kubectl %s: %v\n%s\nwant %q", strings.Join(args, " "), err, out, want)
		}
	}
	expect(false, "serviceaccount/robot created", "create", "serviceaccount", "robot")
	if sa, err := seat.FSM.ServiceAccount("default", "robot"); err != nil || sa.UID == "" {
		t.Fatalf("stored %+v, %v", sa, err)
	}
	out, _ := run("get", "sa")
	if got := strings.Join(strings.Fields(out), " "); !strings.HasPrefix(got, "NAME SECRETS AGE robot 0 ") {
		t.Errorf("get sa: %q", got)
	}
	expect(false, "Name:", "describe", "serviceaccount", "robot")
	expect(true, `pods "missing-sa" is forbidden: error looking up service account default/nobody: serviceaccount "nobody" not found`,
		"run", "missing-sa", "--image=busybox", "--restart=Never", "--overrides", `{"spec":{"serviceAccountName":"nobody"}}`)
	expect(false, "pod/with-sa created", "run", "with-sa", "--image=busybox", "--restart=Never", "--overrides", `{"spec":{"serviceAccountName":"robot","automountServiceAccountToken":false}}`)
	if p, err := seat.FSM.Pod("default", "with-sa"); err != nil || p.Spec.ServiceAccountName != "robot" {
		t.Errorf("pod %+v, %v", p, err)
	}
	expect(true, `ServiceAccount "Bad" is invalid: metadata.name`, "create", "serviceaccount", "Bad")
	expect(false, `serviceaccount "robot" deleted`, "delete", "sa", "robot")
}
