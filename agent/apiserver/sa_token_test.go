package apiserver

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

const testFleetToken = "fleet-secret"

// tokenAPI is the API on a one-seat state with the fleet token
// testFleetToken, holding Namespaces team and other and the
// ServiceAccount team/robot.
func tokenAPI(t *testing.T) (string, *consensus.TestServer) {
	t.Helper()
	c := consensus.NewTestCluster(t, 1)
	s := c.Leader()
	// TLS, because client-go sends credentials only over TLS.
	srv := httptest.NewTLSServer(New(Config{Name: s.ID, Token: testFleetToken, Log: slog.New(slog.DiscardHandler)},
		Deps{Seats: fixedSeat{store: s.FSM, log: s.Raft}}).Handler())
	t.Cleanup(srv.Close)
	tlsClient = srv.Client()
	for _, ns := range []string{"default", "team", "other"} {
		if code, b := call(t, "POST", srv.URL+"/api/v1/namespaces", testFleetToken, `{"metadata":{"name":"`+ns+`"}}`); code != http.StatusCreated {
			t.Fatalf("namespace %s: %d %s", ns, code, b)
		}
	}
	if code, b := call(t, "POST", srv.URL+"/api/v1/namespaces/team/serviceaccounts", testFleetToken, `{"metadata":{"name":"robot"}}`); code != http.StatusCreated {
		t.Fatalf("serviceaccount: %d %s", code, b)
	}
	return srv.URL, s
}

// tlsClient trusts the test's TLS server (tests here do not run in
// parallel).
var tlsClient *http.Client

// call sends body (JSON) with the bearer token tok ("" none).
func call(t *testing.T, method, url, tok, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := tlsClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func requestToken(t *testing.T, base, ns, name, body string) string {
	t.Helper()
	code, b := call(t, "POST", base+"/api/v1/namespaces/"+ns+"/serviceaccounts/"+name+"/token", testFleetToken, body)
	if code != http.StatusCreated {
		t.Fatalf("token request: %d %s", code, b)
	}
	var tr authnv1.TokenRequest
	if err := json.Unmarshal(b, &tr); err != nil || tr.Status.Token == "" || tr.Kind != "TokenRequest" {
		t.Fatalf("token request answer %s: %v", b, err)
	}
	return tr.Status.Token
}

// A ServiceAccount's token may do everything in its namespace and read
// Nodes and Namespaces; anything else is 403 with Kubernetes' message, a
// request without a token or with a bad, expired or orphaned one 401.
func TestServiceAccountTokenRightsAndRefusals(t *testing.T) {
	base, seat := tokenAPI(t)
	tok := requestToken(t, base, "team", "robot", `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":600}}`)

	for _, c := range []struct {
		method, path, body string
		code               int
		msg                string
	}{
		{"GET", "/api/v1/namespaces/team/pods", "", 200, ""},
		{"POST", "/api/v1/namespaces/team/configmaps", `{"metadata":{"name":"c"},"data":{"k":"v"}}`, 201, ""},
		{"GET", "/api/v1/namespaces/team/configmaps/c", "", 200, ""},
		{"DELETE", "/api/v1/namespaces/team/configmaps/c", "", 200, ""},
		{"GET", "/api/v1/nodes", "", 200, ""},
		{"GET", "/api/v1/namespaces", "", 200, ""},
		{"GET", "/api/v1/namespaces/other", "", 200, ""},
		{"GET", "/api", "", 200, ""},
		{"POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", `{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}`, 201, `"username":"system:serviceaccount:team:robot"`},
		{"GET", "/api/v1/namespaces/other/pods", "", 403,
			`pods is forbidden: User \"system:serviceaccount:team:robot\" cannot list resource \"pods\" in API group \"\" in the namespace \"other\"`},
		{"GET", "/apis/apps/v1/namespaces/other/deployments/web", "", 403,
			`deployments.apps \"web\" is forbidden: User \"system:serviceaccount:team:robot\" cannot get resource \"deployments\" in API group \"apps\" in the namespace \"other\"`},
		{"GET", "/api/v1/pods", "", 403, `cannot list resource \"pods\" in API group \"\" at the cluster scope`},
		{"DELETE", "/api/v1/namespaces/team", "", 403, `cannot delete resource \"namespaces\"`},
		{"PATCH", "/api/v1/nodes/n1", "{}", 403, `cannot patch resource \"nodes\"`},
		{"GET", "/shoal/v1/cluster", "", 403, `forbidden: User \"system:serviceaccount:team:robot\" cannot get path \"/shoal/v1/cluster\"`},
	} {
		code, b := call(t, c.method, base+c.path, tok, c.body)
		if code != c.code || !strings.Contains(string(b), c.msg) {
			t.Errorf("%s %s with the token: %d %s, want %d %q", c.method, c.path, code, b, c.code, c.msg)
		}
	}

	// The fleet acting as the ServiceAccount gets its rights; the
	// ServiceAccount may not act as anyone else.
	req, _ := http.NewRequest("GET", base+"/api/v1/namespaces/other/pods", nil)
	req.Header.Set("Authorization", "Bearer "+testFleetToken)
	req.Header.Set("Impersonate-User", "system:serviceaccount:team:robot")
	if resp, err := tlsClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("fleet as the ServiceAccount in another namespace: %v %v, want 403", resp.StatusCode, err)
	}
	req, _ = http.NewRequest("GET", base+"/api/v1/namespaces/team/pods", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Impersonate-User", "admin")
	if resp, err := tlsClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("ServiceAccount impersonating: %v %v, want 403", resp.StatusCode, err)
	}

	// Refused tokens: none, forged, expired, another audience, and one
	// whose ServiceAccount was deleted.
	claims := &saClaims{Issuer: saIssuer, Subject: saUser("team", "robot"), Audience: []string{saIssuer},
		IssuedAt: time.Now().Add(-2 * time.Hour).Unix(), NotBefore: time.Now().Add(-2 * time.Hour).Unix(), Expiry: time.Now().Add(-time.Hour).Unix(),
		K8s: saK8s{Namespace: "team", ServiceAccount: saRef{Name: "robot"}}}
	expired, _ := signSAToken(saKey(testFleetToken), claims)
	claims.Expiry = time.Now().Add(time.Hour).Unix()
	forged, _ := signSAToken(saKey("another fleet"), claims)
	other := requestToken(t, base, "team", "robot", `{"spec":{"audiences":["vault"]}}`)
	for name, c := range map[string]struct{ tok, msg string }{
		"none":     {"", "requires a bearer token"},
		"forged":   {forged, "signature does not match"},
		"expired":  {expired, "token expired"},
		"audience": {other, "do not include the API's"},
		"garbage":  {"a.b.c", "not a token this fleet signs"},
	} {
		code, b := call(t, "GET", base+"/api/v1/namespaces/team/pods", c.tok, "")
		if code != http.StatusUnauthorized || !strings.Contains(string(b), c.msg) {
			t.Errorf("%s token: %d %s, want 401 %q", name, code, b, c.msg)
		}
	}
	sa, _ := seat.FSM.ServiceAccount("team", "robot")
	if _, err := seat.Raft.Apply(t.Context(), consensus.DeleteServiceAccount{Namespace: "team", Name: "robot", UID: sa.UID}); err != nil {
		t.Fatal(err)
	}
	if code, b := call(t, "GET", base+"/api/v1/namespaces/team/pods", tok, ""); code != http.StatusUnauthorized || !strings.Contains(string(b), "no longer exists") {
		t.Errorf("token of a deleted ServiceAccount: %d %s, want 401", code, b)
	}
}

// TokenRequest refuses what Kubernetes refuses, naming the field, and
// binds a token to a pod.
func TestTokenRequestValidatesAndBindsToAPod(t *testing.T) {
	base, seat := tokenAPI(t)
	url := base + "/api/v1/namespaces/team/serviceaccounts/"
	for _, c := range []struct {
		sa, body string
		code     int
		msg      string
	}{
		{"robot", `{"spec":{"expirationSeconds":60}}`, 422, "spec.expirationSeconds: Invalid value: \\\"60\\\": may not specify a duration less than 10 minutes"},
		{"robot", `{"spec":{"boundObjectRef":{"kind":"Secret","apiVersion":"v1","name":"s"}}}`, 422, "spec.boundObjectRef.kind"},
		{"robot", `{"spec":{"boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"nope"}}}`, 404, "nope"},
		{"robot", `{"spec":{"expirySecs":600}}`, 400, "expirySecs"},
		{"nobody", `{}`, 404, "nobody"},
	} {
		code, b := call(t, "POST", url+c.sa+"/token", testFleetToken, c.body)
		if code != c.code || !strings.Contains(string(b), c.msg) {
			t.Errorf("%s %s: %d %s, want %d %q", c.sa, c.body, code, b, c.code, c.msg)
		}
	}
	p := api.Pod{ObjectMeta: api.ObjectMeta{Name: "app", Namespace: "team"}, Spec: api.PodSpec{ServiceAccountName: "robot",
		Containers: []api.Container{{Name: "c", Image: "busybox"}}}}
	if _, err := seat.Raft.Apply(t.Context(), consensus.CreatePod{Pod: p, UID: "pod-uid", Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	tok := requestToken(t, base, "team", "robot", `{"spec":{"boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"app","uid":"pod-uid"}}}`)
	code, b := call(t, "POST", base+"/apis/authentication.k8s.io/v1/selfsubjectreviews", tok, `{}`)
	if code != http.StatusCreated || !strings.Contains(string(b), `"authentication.kubernetes.io/pod-name":["app"]`) {
		t.Errorf("whoami of a pod's token: %d %s", code, b)
	}
	if _, err := seat.Raft.Apply(t.Context(), consensus.DeletePod{Namespace: "team", Name: "app"}); err != nil {
		t.Fatal(err)
	}
	if code, b := call(t, "GET", base+"/api/v1/namespaces/team/pods", tok, ""); code != http.StatusUnauthorized || !strings.Contains(string(b), "pod team/app") {
		t.Errorf("token of a deleted pod: %d %s, want 401", code, b)
	}
}

// kubectl create token, the token used with kubectl --token, and kubectl
// auth can-i both with --as and with the token, through the machine's
// kubectl.
func TestKubectlCreateTokenAndCanI(t *testing.T) {
	base, _ := tokenAPI(t)
	run, dir := kubectlAgainst(t, base)
	// kubectlAgainst's kubeconfig names no CA: this server's certificate
	// is the test's own.
	if err := os.WriteFile(filepath.Join(dir, "kubeconfig"), []byte("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "+base+
		", insecure-skip-tls-verify: true}\ncontexts:\n- name: c\n  context: {cluster: c, namespace: default}\ncurrent-context: c\nusers: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fleet := "--token=" + testFleetToken
	tok, err := run(fleet, "create", "token", "robot", "-n", "team", "--duration=15m")
	tok = strings.TrimSpace(tok)
	if err != nil || !looksLikeJWT(tok) {
		t.Fatalf("create token: %v %s", err, tok)
	}
	expect := func(wantErr bool, want string, args ...string) {
		t.Helper()
		out, err := run(args...)
		if (err != nil) != wantErr || !strings.Contains(out, want) {
			t.Errorf("kubectl %s: %v\n%s\nwant %q", strings.Join(args, " "), err, out, want)
		}
	}
	sa := "--token=" + tok
	expect(false, "No resources found in team namespace", sa, "get", "pods", "-n", "team")
	expect(true, `Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:team:robot" cannot list resource "pods" in API group "" in the namespace "other"`,
		sa, "get", "pods", "-n", "other")
	expect(false, "system:serviceaccount:team:robot", sa, "auth", "whoami")
	expect(false, "yes", sa, "auth", "can-i", "create", "deployments.apps", "-n", "team")
	expect(true, "no", sa, "auth", "can-i", "create", "deployments.apps", "-n", "other")
	expect(false, "yes", sa, "auth", "can-i", "list", "nodes")
	expect(true, "no", sa, "auth", "can-i", "delete", "nodes")
	as := "--as=system:serviceaccount:team:robot"
	expect(false, "yes", fleet, as, "auth", "can-i", "delete", "pods", "-n", "team")
	expect(true, "no", fleet, as, "auth", "can-i", "delete", "pods", "-n", "other")
	expect(false, "yes", fleet, "auth", "can-i", "delete", "pods", "-n", "other")
	out, err := run(sa, "auth", "can-i", "--list", "-n", "team")
	if got := strings.Join(strings.Fields(out), " "); err != nil || !strings.Contains(got, "pods [] [] [create delete") || !strings.Contains(got, "nodes [] [] [get list watch]") {
		t.Errorf("auth can-i --list in its namespace: %v\n%s", err, out)
	}
}
