package apiserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"sigs.k8s.io/yaml"

	"github.com/shoal-dev/shoal/api"
)

// Server-side apply (kubectl apply --server-side, client-go's Apply):
// apimachinery's field manager (structured-merge-diff over the served
// kinds' OpenAPI schemas) merges the applied configuration into the live
// object, records which manager owns which field in metadata.managedFields,
// removes what a manager applied before and no longer applies, and refuses
// a change to a field another manager owns unless forced, as the
// Kubernetes API server does. The result is written like any other update:
// through the kind's PUT, with the read resourceVersion as precondition.

// applier holds one field manager per kind, built on first use.
type applier struct {
	once sync.Once
	tc   managedfields.TypeConverter
	err  error

	mu       sync.Mutex
	managers map[schema.GroupVersionKind]*managedfields.FieldManager
}

// defaulter is api.Default as apimachinery's ObjectDefaulter.
type defaulter struct{}

func (defaulter) Default(obj runtime.Object) {
	if o, ok := obj.(api.Object); ok {
		api.Default(o)
	}
}

func (a *applier) manager(gvk schema.GroupVersionKind) (*managedfields.FieldManager, error) {
	a.once.Do(func() {
		// Through JSON, as from a served document: the converter reads
		// x-kubernetes-group-version-kind as decoded JSON, not Go maps.
		b, err := json.Marshal(api.OpenAPISchemas("#/components/schemas/"))
		if err != nil {
			a.err = err
			return
		}
		var defs map[string]*spec.Schema
		if a.err = json.Unmarshal(b, &defs); a.err != nil {
			return
		}
		a.tc, a.err = managedfields.NewTypeConverter(defs, false)
		a.managers = map[schema.GroupVersionKind]*managedfields.FieldManager{}
	})
	if a.err != nil {
		return nil, fmt.Errorf("server-side apply: schemas: %w", a.err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if fm, ok := a.managers[gvk]; ok {
		return fm, nil
	}
	fm, err := managedfields.NewDefaultFieldManager(a.tc, api.Scheme(), defaulter{}, api.Scheme(), gvk, gvk.GroupVersion(), "", nil)
	if err != nil {
		return nil, fmt.Errorf("server-side apply of %s: %w", gvk.Kind, err)
	}
	a.managers[gvk] = fm
	return fm, nil
}

// apply merges the applied configuration patch (YAML or JSON) into live,
// a JSON document, or into a new object of the kind when live is nil, and
// returns the result as JSON.
func (a *applier) apply(r *http.Request, gvk schema.GroupVersionKind, ns, name string, live, patch []byte) ([]byte, error) {
	q := r.URL.Query()
	manager := q.Get("fieldManager")
	if manager == "" {
		return nil, invalid(&api.FieldError{Path: "fieldManager", Value: "", Detail: "is required for apply requests"})
	}
	force := false
	switch f := q.Get("force"); f {
	case "", "false":
	case "true":
		force = true
	default:
		return nil, invalid(&api.FieldError{Path: "force", Value: f, Detail: "must be true or false"})
	}
	applied := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(patch, &applied.Object); err != nil {
		return nil, invalid(fmt.Errorf("decode applied configuration: %w", err))
	}
	if got := applied.GroupVersionKind(); got != gvk {
		return nil, invalid(&api.FieldError{Path: "apiVersion, kind", Value: got.GroupVersion().String() + ", " + got.Kind,
			Detail: "the applied configuration must be a " + gvk.GroupVersion().String() + " " + gvk.Kind})
	}
	if applied.GetName() != name || (applied.GetNamespace() != "" && applied.GetNamespace() != ns) {
		return nil, invalid(&api.FieldError{Path: "metadata.name", Value: applied.GetNamespace() + "/" + applied.GetName(),
			Detail: "does not match the object of the URL " + ns + "/" + name})
	}
	fm, err := a.manager(gvk)
	if err != nil {
		return nil, err
	}
	obj, err := api.Scheme().New(gvk)
	if err != nil {
		return nil, fmt.Errorf("server-side apply: %w", err)
	}
	if live != nil {
		if err := api.DecodeStrict(live, obj); err != nil {
			return nil, fmt.Errorf("server-side apply: read the live %s: %w", gvk.Kind, err)
		}
	} else {
		// A new object: the apply creates it.
		o := obj.(api.Object)
		api.MetaOf(o).Name, api.MetaOf(o).Namespace = name, ns
		obj.GetObjectKind().SetGroupVersionKind(gvk)
	}
	out, err := fm.Apply(obj, applied, manager, force)
	if err != nil {
		var st apierrors.APIStatus
		if errors.As(err, &st) {
			return nil, err // a Status already: statusError passes it on
		}
		return nil, invalid(fmt.Errorf("server-side apply: %w", err))
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("server-side apply: encode the result: %w", err)
	}
	return b, nil
}

// appliedKey marks the write that carries a server-side apply's result:
// its fields are recorded by the apply, not as an update.
type appliedKey struct{}

// track records a write other than an apply (create, replace, patch) in
// obj's managedFields as an Update by the request's field manager, so
// that a later apply by another manager conflicts with what it set, as in
// Kubernetes. live is the stored object, nil on create. The manager is
// ?fieldManager=, else the User-Agent's program name.
func (a *applier) track(r *http.Request, live, obj api.Object) api.Object {
	if applied, _ := r.Context().Value(appliedKey{}).(bool); applied {
		return obj
	}
	gvk := obj.GetObjectKind().GroupVersionKind()
	fm, err := a.manager(gvk)
	if err != nil {
		return obj
	}
	if live == nil {
		n, err := api.Scheme().New(gvk)
		if err != nil {
			return obj
		}
		n.GetObjectKind().SetGroupVersionKind(gvk)
		live = n.(api.Object)
	} else {
		live = live.DeepCopyObject().(api.Object)
		live.GetObjectKind().SetGroupVersionKind(gvk)
	}
	manager := r.URL.Query().Get("fieldManager")
	if manager == "" {
		manager, _, _ = strings.Cut(r.Header.Get("User-Agent"), "/")
	}
	if manager == "" {
		manager = "unknown"
	}
	out, ok := fm.UpdateNoErrors(live, obj, manager).(api.Object)
	if !ok {
		return obj
	}
	return out
}
