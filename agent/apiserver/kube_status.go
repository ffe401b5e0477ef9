package apiserver

import (
	"errors"
	"fmt"
	"strings"

	"github.com/shoal-dev/shoal/api"
	"github.com/shoal-dev/shoal/consensus"
)

// kubeStatusMessage words a Status's message as the Kubernetes API server
// does, since kubectl prints it as it comes: `pods "web" not found`,
// `Operation cannot be fulfilled on pods "web": ...`, `Pod "web" is
// invalid: spec.x: Invalid value: ...`.
func kubeStatusMessage(st *api.Status, err error) {
	var (
		nf  *consensus.NotFoundError
		ae  *consensus.AlreadyExistsError
		cf  *consensus.ConflictError
		inv *consensus.InvalidError
		fb  *consensus.ForbiddenError
	)
	switch {
	case errors.As(err, &nf):
		st.Message = fmt.Sprintf("%s %q not found", kindPlural(nf.Kind), nf.Name)
	case errors.As(err, &ae):
		st.Message = fmt.Sprintf("%s %q already exists", kindPlural(ae.Kind), ae.Name)
	case errors.As(err, &cf):
		reason := cf.Reason
		if strings.HasPrefix(reason, "the object has been modified") {
			// the sentence kubectl users know from Kubernetes
			reason = "the object has been modified; please apply your changes to the latest version and try again"
		}
		st.Message = fmt.Sprintf("Operation cannot be fulfilled on %s %q: %s", kindPlural(cf.Kind), cf.Name, reason)
	case errors.As(err, &inv):
		st.Message = fmt.Sprintf("%s %q is invalid: %s", inv.Kind, inv.Name, joinCauses(inv.Fields))
	case errors.As(err, &fb):
		st.Message = fmt.Sprintf("%s %q is forbidden: %s", kindPlural(fb.Kind), fb.Name, fb.Reason)
	}
}

func joinCauses(fes api.FieldErrors) string {
	parts := make([]string, len(fes))
	for i, fe := range fes {
		parts[i] = fe.Path + ": " + causeMessage(fe)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// causeMessage is a field error without its path, which kubectl prints
// next to the cause's field: `Invalid value: "x": why`, `Required value`.
func causeMessage(fe *api.FieldError) string {
	switch {
	case fe.Detail == "required":
		return "Required value"
	case fe.Detail == "unknown field":
		return "Unsupported value: field not declared in schema"
	case fe.Value != "":
		return fmt.Sprintf("Invalid value: %q: %s", fe.Value, fe.Detail)
	}
	return fe.Detail
}

// pluralOf is the resource name of a kind: ReplicationController ->
// replicationcontrollers.
func pluralOf(kind string) string {
	lower := strings.ToLower(kind)
	if lower == "" || strings.HasSuffix(lower, "s") {
		return lower
	}
	return lower + "s"
}

// invalidPod names the pod a manifest that failed to decode was about, so
// kubectl prints `The Pod "web" is invalid: spec.x: ...` rather than "The
// request is invalid".
func invalidPod(ns, name string, err error) error {
	fes := api.AsFieldErrors(err)
	if fes == nil {
		return invalid(err)
	}
	return &consensus.InvalidError{Kind: "Pod", Namespace: ns, Name: name, Fields: fes}
}
