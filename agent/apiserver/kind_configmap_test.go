package apiserver

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// A watch of ConfigMaps sees one created and changed through the API, as
// client-go's informers (and so controllers that mount them) follow them.
func TestConfigMapsAreWatched(t *testing.T) {
	base, _ := serviceAPI(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/namespaces/default/configmaps?watch=1", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("watch: %v %v", resp, err)
	}
	defer resp.Body.Close()
	coll := base + "/api/v1/namespaces/default/configmaps"
	if code, b := do(t, "POST", coll, "application/yaml", "", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {k: one}\n"); code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, b)
	}
	if code, b := do(t, "PUT", coll+"/cfg", "application/yaml", "", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {k: two}\n"); code != http.StatusOK {
		t.Fatalf("replace: %d %s", code, b)
	}
	sc := bufio.NewScanner(resp.Body)
	var got []string
	for len(got) < 2 && sc.Scan() {
		var ev struct {
			Type   string `json:"type"`
			Object struct {
				Kind string            `json:"kind"`
				Data map[string]string `json:"data"`
			} `json:"object"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("event %s: %v", sc.Text(), err)
		}
		got = append(got, ev.Type+" "+ev.Object.Kind+" "+ev.Object.Data["k"])
	}
	if len(got) != 2 || got[0] != "ADDED ConfigMap one" || got[1] != "MODIFIED ConfigMap two" {
		t.Fatalf("events %q", got)
	}
}
