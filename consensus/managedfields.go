package consensus

import (
	"reflect"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// managedFieldsAfter is what an update leaves in metadata.managedFields
// (server-side apply's record of which manager owns which field): the
// request's, or the stored ones when the request carries none (a client
// that does not know the field), as in Kubernetes; an empty list clears
// them. changed tells whether that differs from what is stored.
func managedFieldsAfter(stored, in []metav1.ManagedFieldsEntry) (out []metav1.ManagedFieldsEntry, changed bool) {
	if in == nil {
		return stored, false
	}
	if len(in) == 0 {
		return nil, len(stored) != 0
	}
	return in, !reflect.DeepEqual(toGeneric(stored), toGeneric(in))
}
