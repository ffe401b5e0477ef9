package podruntime

import (
	"context"
	"sync"

	"github.com/shoal-dev/shoal/api"
)

// fakeObjects is an in-memory ObjectSource; agent/wire_node.go's reader
// through the fleet's API is its real twin (e2e/configmaps_test.go).
type fakeObjects struct {
	mu         sync.Mutex
	configMaps map[string]*api.ConfigMap
	secrets    map[string]*api.Secret
	reads      int
}

func newFakeObjects() *fakeObjects {
	return &fakeObjects{configMaps: map[string]*api.ConfigMap{}, secrets: map[string]*api.Secret{}}
}

func (f *fakeObjects) putConfigMap(name string, data map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.configMaps["default/"+name] = &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default"}, Data: data}
}

func (f *fakeObjects) putSecret(name string, data map[string][]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.secrets["default/"+name] = &api.Secret{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default"}, Data: data}
}

func (f *fakeObjects) ConfigMap(_ context.Context, ns, name string) (*api.ConfigMap, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if cm := f.configMaps[ns+"/"+name]; cm != nil {
		return cm.DeepCopy(), nil
	}
	return nil, nil
}

func (f *fakeObjects) Secret(_ context.Context, ns, name string) (*api.Secret, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if s := f.secrets[ns+"/"+name]; s != nil {
		return s.DeepCopy(), nil
	}
	return nil, nil
}
