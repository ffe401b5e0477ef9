package apiserver

import (
	"net/http"
	"time"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// podKind serves /api/v1/[namespaces/{ns}/]pods. Its PATCH
// (kube_patch_pod.go), status and streams have routes of their own.
type podKind struct{}

func (podKind) meta() kindMeta {
	return kindMeta{kind: "Pod", apiVersion: "v1", listKind: "PodList", base: "/api/v1", plural: "pods",
		// the node agents' spec.nodeName=NAME, kubectl's metadata.name=NAME
		// (delete --wait, get pod NAME -w)
		fields:     []string{"spec.nodeName", "status.phase"},
		shortNames: []string{"po"}, categories: []string{"all"}}
}

func (podKind) newObject() api.Object { return &api.Pod{} }

func (podKind) get(st Store, ns, name string) (api.Object, error) {
	p, err := st.Pod(ns, name)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func (podKind) list(st Store, match func(api.Object) bool) ([]api.Object, uint64) {
	pods, idx := st.Pods(func(p *api.Pod) bool { return match(p) })
	out := make([]api.Object, len(pods))
	for i, p := range pods {
		out[i] = p
	}
	return out, idx
}

func (podKind) field(obj api.Object, name string) string {
	p := obj.(*api.Pod)
	switch name {
	case "spec.nodeName":
		return p.Spec.NodeName
	case "status.phase":
		return string(p.Status.Phase)
	}
	return ""
}

// read decodes a request body strictly into a defaulted, valid pod whose
// namespace is the URL's; a POST without a name takes one from
// generateName, and an invalid pod is named in the error, as kubectl
// prints it (`The Pod "web" is invalid: ...`).
func (podKind) read(r *http.Request) (api.Object, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	body = generateName(r, body) // kube_generate_name.go
	ns := r.PathValue("ns")
	name, err := checkHead(body, ns, "Pod", "v1")
	if err != nil {
		return nil, err
	}
	p := &api.Pod{ObjectMeta: api.ObjectMeta{Namespace: ns}}
	if err := api.DecodeObject(body, p); err != nil {
		return nil, invalidPod(ns, name, err) // kube_status.go
	}
	p.ObjectMeta.Namespace = ns
	return p, nil
}

// write is CreatePod for a POST, ApplyPod (create or replace) for a PUT.
func (podKind) write(obj api.Object, create bool, uid api.UID, now time.Time) consensus.Command {
	p := *obj.(*api.Pod)
	if create {
		return consensus.CreatePod{Pod: p, UID: uid, Time: now}
	}
	return consensus.ApplyPod{Pod: p, UID: uid, Time: now}
}

func (podKind) remove(r *http.Request, cur api.Object) (consensus.Command, error) {
	return removePod(r, cur, time.Now()) // kube_delete_options.go
}

func (podKind) stored(out *consensus.Result) api.Object { return out.Pod }

func (podKind) table() tableKind { return podTable() }
