package apiserver

import (
	"encoding/json"
	"testing"
	"time"
)

func TestToTableTablesListsOfKnownKindsOnly(t *testing.T) {
	list := `{"kind":"NodeList","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[
	  {"metadata":{"name":"n1","labels":{"node-role.kubernetes.io/control-plane":""}},"spec":{"unschedulable":true},
	   "status":{"conditions":[{"type":"Ready","status":"True"}],"addresses":[{"type":"InternalIP","address":"10.0.0.1"}],"nodeInfo":{"kubeletVersion":"v1"}}}]}`
	tbl, ok := toTable([]byte(list), "", time.Now())
	if !ok {
		t.Fatal("a NodeList was not tabled")
	}
	if tbl.Metadata.ResourceVersion != "7" || len(tbl.Rows) != 1 || len(tbl.ColumnDefinitions) != len(tbl.Rows[0].Cells) {
		t.Fatalf("table = %+v", tbl)
	}
	cells := tbl.Rows[0].Cells
	if cells[1] != "Ready,SchedulingDisabled" || cells[2] != "control-plane" || cells[5] != "10.0.0.1" || cells[6] != "<none>" {
		t.Errorf("cells = %q", cells)
	}
	var obj map[string]any
	if err := json.Unmarshal(tbl.Rows[0].Object, &obj); err != nil || obj["kind"] != "PartialObjectMetadata" {
		t.Errorf("row object = %s, want PartialObjectMetadata", tbl.Rows[0].Object)
	}
	for _, body := range []string{
		`{"kind":"Status","apiVersion":"v1","status":"Failure"}`,
		`{"kind":"Table","apiVersion":"meta.k8s.io/v1","rows":[]}`,
		`{"kind":"WidgetList","items":[]}`,
		`not json`,
	} {
		if _, ok := toTable([]byte(body), "", time.Now()); ok {
			t.Errorf("%s was tabled", body)
		}
	}
}

func TestEveryTableRowHasACellPerColumn(t *testing.T) {
	for kind, tk := range tableKinds() {
		cells, err := tk.typed(json.RawMessage(`{}`), time.Now())
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if got := len(cells); got != len(tk.columns) {
			t.Errorf("%s: %d cells for %d columns", kind, got, len(tk.columns))
		}
	}
}

func TestNodeTableShowsShoalRolesBlockAndAllocation(t *testing.T) {
	node := `{"kind":"Node","apiVersion":"v1","metadata":{"name":"n2","labels":{"node-role.shoal.dev/server":""},
	  "annotations":{"shoal.dev/roles":"server,leader","shoal.dev/allocated-cpu":"500m","shoal.dev/allocated-memory":"1Gi","shoal.dev/pods":"3"}},
	  "spec":{"podCIDR":"10.244.1.0/24"},
	  "status":{"allocatable":{"cpu":"2","memory":"2Gi","pods":"110"},"conditions":[{"type":"Ready","status":"False"}]}}`
	tbl, ok := toTable([]byte(node), "", time.Now())
	if !ok {
		t.Fatal("a Node was not tabled")
	}
	cells, cols := tbl.Rows[0].Cells, tbl.ColumnDefinitions
	cell := func(name string) any {
		for i, c := range cols {
			if c.Name == name {
				return cells[i]
			}
		}
		t.Fatalf("no column %s", name)
		return nil
	}
	for name, want := range map[string]string{"Status": "NotReady", "Roles": "server,leader", "Pod-Block": "10.244.1.0/24", "CPU": "500m/2", "Memory": "1Gi/2Gi", "Pods": "3/110"} {
		if got := cell(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	// A watch event carries the stored node, without read-time annotations.
	bare := `{"kind":"Node","apiVersion":"v1","metadata":{"name":"n3","labels":{"node-role.shoal.dev/server":""}},"status":{}}`
	tbl, _ = toTable([]byte(bare), "", time.Now())
	cells = tbl.Rows[0].Cells
	if cell("Roles") != "server" || cell("CPU") != "<unknown>" {
		t.Errorf("bare node cells = %q", cells)
	}
}
