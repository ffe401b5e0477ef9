package apiserver

import (
	"fmt"

	"github.com/shoal-dev/shoal/api"
)

// A kind's reads go to the narrower interface of the state that holds it
// (secretStore, serviceStore, ...): getIn and listIn are the one way a
// kind file reads, given that interface's own methods.

// getIn reads one object through the store S of the state.
func getIn[S any, T api.Object](st Store, what string, get func(S, string, string) (T, error), ns, name string) (api.Object, error) {
	s, ok := st.(S)
	if !ok {
		return nil, fmt.Errorf("state of type %T holds no %s", st, what)
	}
	obj, err := get(s, ns, name)
	if err != nil {
		return nil, err // not a typed nil inside the interface
	}
	return obj, nil
}

// listIn lists the objects that match through the store S of the state,
// with the state's index; a state without S holds none.
func listIn[S any, T api.Object](st Store, list func(S, func(T) bool) ([]T, uint64), match func(api.Object) bool) ([]api.Object, uint64) {
	s, ok := st.(S)
	if !ok {
		return nil, 0
	}
	items, idx := list(s, func(obj T) bool { return match(obj) })
	out := make([]api.Object, len(items))
	for i, obj := range items {
		out[i] = obj
	}
	return out, idx
}
