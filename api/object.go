package api

// Object is a resource shoal stores: something with TypeMeta and ObjectMeta.
type Object interface {
	GetTypeMeta() *TypeMeta
	GetMetadata() *ObjectMeta
}

// GetTypeMeta returns the pod's apiVersion and kind.
func (p *Pod) GetTypeMeta() *TypeMeta { return &p.TypeMeta }

// GetMetadata returns the pod's metadata.
func (p *Pod) GetMetadata() *ObjectMeta { return &p.Metadata }

// GetTypeMeta returns the node's apiVersion and kind.
func (n *Node) GetTypeMeta() *TypeMeta { return &n.TypeMeta }

// GetMetadata returns the node's metadata.
func (n *Node) GetMetadata() *ObjectMeta { return &n.Metadata }

// Key is the store key of a namespaced object: "namespace/name".
func Key(namespace, name string) string { return namespace + "/" + name }

// Key returns the pod's store key.
func (p *Pod) Key() string { return Key(p.Metadata.Namespace, p.Metadata.Name) }

// newObject returns an empty object for a document's apiVersion and kind.
func newObject(tm TypeMeta) (Object, error) {
	switch {
	case tm.Kind == "Pod" && tm.APIVersion == "v1":
		return &Pod{}, nil
	case tm.Kind == "Node" && tm.APIVersion == "v1":
		return &Node{}, nil
	case tm.Kind == KindReplicationController && tm.APIVersion == "v1":
		return &ReplicationController{}, nil
	case tm.Kind == KindReplicaSet && tm.APIVersion == AppsV1:
		return &ReplicaSet{}, nil
	case tm.Kind == "Secret" && tm.APIVersion == "v1":
		return &Secret{}, nil
	case tm.Kind == "":
		return nil, &FieldError{Path: "kind", Detail: "required"}
	case tm.APIVersion == "":
		return nil, &FieldError{Path: "apiVersion", Detail: "required"}
	}
	return nil, &FieldError{Path: "kind", Value: tm.APIVersion + "/" + tm.Kind,
		Detail: "unsupported kind (supported: v1/Pod, v1/Node, v1/ReplicationController, apps/v1/ReplicaSet, v1/Secret, v1/List)"}
}
