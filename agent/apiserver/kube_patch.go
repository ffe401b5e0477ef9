package apiserver

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
)

// Patch content types kubectl sends.
const (
	mergePatchType     = "application/merge-patch+json"
	strategicPatchType = "application/strategic-merge-patch+json"
	jsonPatchType      = "application/json-patch+json"
	applyPatchType     = "application/apply-patch+yaml"
)

// patchJSON applies a patch of contentType to the JSON document current
// and returns the patched document, with the machinery the Kubernetes API
// server uses: evanphx/json-patch for JSON merge patches (RFC 7386) and
// JSON patches (RFC 6902), apimachinery's strategicpatch for the strategic
// merge patches kubectl apply sends, its list merge keys and directives
// read from the Go type of the object (schema, e.g. &api.Pod{}). A
// strategic merge patch needs that type; schema nil refuses it.
// Server-side apply is not a patch of a document: kube_apply.go.
func patchJSON(contentType string, schema runtime.Object, current, patch []byte) ([]byte, error) {
	if err := checkPatchType(contentType); err != nil {
		return nil, err
	}
	switch patchMediaType(contentType) {
	case applyPatchType:
		return nil, &badRequest{reason: "UnsupportedMediaType", code: http.StatusUnsupportedMediaType,
			err: errors.New("server-side apply is not supported for this resource")}
	case mergePatchType:
		out, err := jsonpatch.MergePatch(current, patch)
		if err != nil {
			return nil, invalid(fmt.Errorf("merge patch: %w", err))
		}
		return out, nil
	case jsonPatchType:
		ops, err := jsonpatch.DecodePatch(patch)
		if err != nil {
			return nil, invalid(fmt.Errorf("decode JSON patch: %w", err))
		}
		out, err := ops.Apply(current)
		if err != nil {
			return nil, invalid(fmt.Errorf("JSON patch: %w", err))
		}
		return out, nil
	default: // strategicPatchType, as checkPatchType let nothing else through
		if schema == nil {
			return nil, &badRequest{reason: "UnsupportedMediaType", code: http.StatusUnsupportedMediaType,
				err: fmt.Errorf("strategic merge patch is not supported for this object; use %s or %s", mergePatchType, jsonPatchType)}
		}
		out, err := strategicpatch.StrategicMergePatch(current, patch, schema)
		if err != nil {
			return nil, invalid(fmt.Errorf("strategic merge patch: %w", err))
		}
		return out, nil
	}
}

func patchMediaType(contentType string) string {
	ct, _, _ := strings.Cut(contentType, ";")
	return strings.TrimSpace(ct)
}

// checkPatchType refuses, before anything is read, the patch types shoal
// does not apply: a server-side apply must not turn into a NotFound.
func checkPatchType(contentType string) error {
	switch ct := patchMediaType(contentType); ct {
	case mergePatchType, strategicPatchType, jsonPatchType, applyPatchType:
		return nil
	default:
		return &badRequest{reason: "UnsupportedMediaType", code: http.StatusUnsupportedMediaType,
			err: fmt.Errorf("unsupported patch type %q (supported: %s, %s, %s, %s)", ct, jsonPatchType, mergePatchType, strategicPatchType, applyPatchType)}
	}
}
