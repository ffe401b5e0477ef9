package agent

// The shapes of the API's answers as the tests of a whole agent read them
// (package apiserver keeps its own unexported).

const (
	mergePatchType     = "application/merge-patch+json"
	strategicPatchType = "application/strategic-merge-patch+json"
	jsonPatchType      = "application/json-patch+json"
	applyPatchType     = "application/apply-patch+yaml"
)

// table is a meta.k8s.io Table as kubectl reads it.
type table struct {
	Kind              string `json:"kind"`
	APIVersion        string `json:"apiVersion"`
	ColumnDefinitions []struct {
		Name string `json:"name"`
	} `json:"columnDefinitions"`
	Rows []struct {
		Cells []any `json:"cells"`
	} `json:"rows"`
}

type watchEvent struct {
	Type   string `json:"type"`
	Object any    `json:"object"`
}

// jsonObj is an object decoded from JSON, read by path.
type jsonObj map[string]any

func (o jsonObj) num(path ...string) int64 {
	var cur any = map[string]any(o)
	for _, p := range path {
		m, _ := cur.(map[string]any)
		cur = m[p]
	}
	f, _ := cur.(float64)
	return int64(f)
}

// clusterView is GET /shoal/v1/cluster.
type clusterView struct {
	Node    string `json:"node"`
	Leader  string `json:"leader"`
	Server  bool   `json:"server"`
	Members []struct {
		Name   string `json:"name"`
		API    string `json:"api"`
		Server bool   `json:"server"`
		Alive  bool   `json:"alive"`
	} `json:"members"`
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
