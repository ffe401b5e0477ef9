package apiserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// statusError maps an error to the Kubernetes Status kubectl and our CLI
// read: reason and HTTP code, and the field causes of an invalid object.
// Errors without a known type answer InternalError with a generic message,
// so internals never leak to the caller; the real error goes to the log.
func statusError(err error) api.Status {
	st := api.Status{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: "Failure", Message: err.Error()}
	var (
		nf  *consensus.NotFoundError
		ae  *consensus.AlreadyExistsError
		cf  *consensus.ConflictError
		inv *consensus.InvalidError
		rej *consensus.RejectedError
		fb  *consensus.ForbiddenError
		bad *badRequest
	)
	var ks apierrors.APIStatus
	switch {
	case errors.As(err, &ks):
		// apimachinery's own (server-side apply's conflicts): already a Status.
		st = ks.Status()
		st.TypeMeta = api.TypeMeta{APIVersion: "v1", Kind: "Status"}
		return st
	case errors.As(err, &nf):
		st.Reason, st.Code = "NotFound", http.StatusNotFound
		st.Details = &api.StatusDetails{Name: nf.Name, Kind: kindPlural(nf.Kind)}
	case errors.As(err, &ae):
		st.Reason, st.Code = "AlreadyExists", http.StatusConflict
		st.Details = &api.StatusDetails{Name: ae.Name, Kind: kindPlural(ae.Kind)}
	case errors.As(err, &cf):
		st.Reason, st.Code = "Conflict", http.StatusConflict
		st.Details = &api.StatusDetails{Name: cf.Name, Kind: kindPlural(cf.Kind)}
	case errors.As(err, &inv):
		st.Reason, st.Code = "Invalid", http.StatusUnprocessableEntity
		st.Details = &api.StatusDetails{Name: inv.Name, Kind: inv.Kind, Causes: causes(inv.Fields)}
	case errors.As(err, &fb):
		st.Reason, st.Code = "Forbidden", http.StatusForbidden
		st.Details = &api.StatusDetails{Name: fb.Name, Kind: kindPlural(fb.Kind)}
	case errors.As(err, &rej):
		st.Reason, st.Code = "Forbidden", http.StatusForbidden
	case errors.As(err, &bad):
		st.Reason, st.Code = api.StatusReason(bad.reason), int32(bad.code)
		if fes := api.AsFieldErrors(err); fes != nil {
			st.Details = &api.StatusDetails{Causes: causes(fes)}
		}
	default:
		st.Reason, st.Code = "InternalError", http.StatusInternalServerError
		st.Message = "internal error; see the agent's log"
	}
	kubeStatusMessage(&st, err)
	return st
}

func causes(fes api.FieldErrors) []api.StatusCause {
	out := make([]api.StatusCause, len(fes))
	for i, fe := range fes {
		reason := "FieldValueInvalid"
		switch fe.Detail {
		case "unknown field":
			reason = "FieldValueUnknown"
		case "required":
			reason = "FieldValueRequired"
		}
		out[i] = api.StatusCause{Type: api.CauseType(reason), Message: causeMessage(fe), Field: fe.Path}
	}
	return out
}

func kindPlural(kind string) string {
	switch kind {
	case "Pod":
		return "pods"
	case "Node":
		return "nodes"
	}
	return pluralOf(kind)
}

// badRequest is an error of the request itself (malformed body, wrong kind).
type badRequest struct {
	reason string
	code   int
	err    error
}

func (b *badRequest) Error() string { return b.err.Error() }
func (b *badRequest) Unwrap() error { return b.err }

func invalid(err error) error {
	// A body cut off by the size cap fails to decode, but the caller's
	// fault is its size, not its syntax.
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		limit := tooLarge.Limit
		if limit == maxBodyBytes+1 { // withMiddleware's cap reads one byte past the limit
			limit = maxBodyBytes
		}
		return &badRequest{reason: "RequestEntityTooLarge", code: http.StatusRequestEntityTooLarge,
			err: fmt.Errorf("request body larger than %d bytes", limit)}
	}
	if errors.Is(err, errBodyTimeout) {
		return &badRequest{reason: "Timeout", code: http.StatusRequestTimeout, err: err}
	}
	if api.AsFieldErrors(err) != nil {
		return &badRequest{reason: "Invalid", code: http.StatusUnprocessableEntity, err: err}
	}
	return &badRequest{reason: "BadRequest", code: http.StatusBadRequest, err: err}
}

func notFound(kind, ns, name string) error {
	return &consensus.NotFoundError{Kind: kind, Namespace: ns, Name: name}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("write answer", "err", err)
	}
}

func writeError(w http.ResponseWriter, log *slog.Logger, err error) {
	st := statusError(err)
	if st.Code == http.StatusInternalServerError {
		log.Error("request failed", "err", err)
	}
	writeJSON(w, int(st.Code), st)
}

// IndexHeader carries the Raft index of a write's entry back through the
// forwarding agents (forward.go); the agent's own write endpoints set it
// too.
const IndexHeader = indexHeader

// MaxBodyBytes bounds every request body except image archives.
const MaxBodyBytes = maxBodyBytes

// WriteJSON answers v as JSON with code: for the agent's own endpoints.
func WriteJSON(w http.ResponseWriter, code int, v any) { writeJSON(w, code, v) }

// WriteError answers err as a Kubernetes Status, as every API route does.
func WriteError(w http.ResponseWriter, log *slog.Logger, err error) { writeError(w, log, err) }

// Invalid marks err as the request's fault: 413 for a body over the cap,
// 422 for field errors, 400 otherwise.
func Invalid(err error) error { return invalid(err) }
