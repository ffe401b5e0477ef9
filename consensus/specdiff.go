package consensus

import (
	"fmt"
	"reflect"
	"sort"

	"github.com/shoal-dev/shoal/api"
)

// immutableSpecChange returns the first field, in Kubernetes' JSON path
// form, where next differs from old other than in the image of a container
// or an init container (a pod's spec is immutable but for its images), or nil.
func immutableSpecChange(old, next *api.PodSpec) *api.FieldError {
	a, b := *old, *next
	a.Containers, b.Containers = withoutImages(old.Containers, next.Containers)
	a.InitContainers, b.InitContainers = withoutImages(old.InitContainers, next.InitContainers)
	path := firstDiff("spec", toGeneric(a), toGeneric(b))
	if path == "" {
		return nil
	}
	return &api.FieldError{Path: path,
		Detail: "field is immutable: a pod's spec may change only in spec.containers[*].image and spec.initContainers[*].image; delete and re-create the pod to change it"}
}

// withoutImages copies two container lists, blanking the images when the
// lists pair up one to one so that only other differences remain.
func withoutImages(old, next []api.Container) ([]api.Container, []api.Container) {
	a := append([]api.Container(nil), old...)
	b := append([]api.Container(nil), next...)
	if len(a) == len(b) {
		for i := range a {
			a[i].Image, b[i].Image = "", ""
			// Pull policy follows the image's tag by default; changing the
			// image may change it without the user asking.
			a[i].ImagePullPolicy, b[i].ImagePullPolicy = "", ""
		}
	}
	return a, b
}

func toGeneric(v any) any {
	var out any
	mustRoundTrip(v, &out)
	return out
}

// firstDiff walks two JSON trees in a fixed order (sorted keys, then
// indices) and returns the path of the first difference.
func firstDiff(path string, a, b any) string {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			return path
		}
		keys := map[string]bool{}
		for k := range av {
			keys[k] = true
		}
		for k := range bv {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			if p := firstDiff(path+"."+k, av[k], bv[k]); p != "" {
				return p
			}
		}
		return ""
	case []any:
		bv, ok := b.([]any)
		if !ok {
			return path
		}
		for i := 0; i < len(av) && i < len(bv); i++ {
			if p := firstDiff(fmt.Sprintf("%s[%d]", path, i), av[i], bv[i]); p != "" {
				return p
			}
		}
		if len(av) != len(bv) {
			return path
		}
		return ""
	}
	if !reflect.DeepEqual(a, b) {
		return path
	}
	return ""
}
