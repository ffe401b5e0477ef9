package api

// Events (v1) are what happened to objects. Agents and the leader record
// theirs in batches (consensus.RecordEvents, which folds repeats); a
// client writes its own through the API under its own name, as client-go's
// event recorders do (consensus.ApplyEvent).

// KindEvent is the kind of an Event.
const KindEvent = "Event"

func defaultEvent(e *Event) {
	e.APIVersion, e.Kind = V1, KindEvent
	if e.Namespace == "" {
		e.Namespace = DefaultNamespace
	}
}

// ValidateEvent checks a defaulted Event as Kubernetes' ValidateEventCreate
// does for v1 events: the object it is about, a type of Normal or
// Warning, and an involved object in the event's own namespace.
func ValidateEvent(e *Event) error {
	var errs FieldErrors
	errs = append(errs, validateName("metadata.name", e.Name)...)
	errs = append(errs, validateDNSLabel("metadata.namespace", e.Namespace)...)
	errs = append(errs, validateLabels("metadata.labels", e.Labels)...)
	if e.InvolvedObject.Kind == "" {
		errs = append(errs, &FieldError{Path: "involvedObject.kind", Detail: "required"})
	}
	if e.InvolvedObject.Name == "" {
		errs = append(errs, &FieldError{Path: "involvedObject.name", Detail: "required"})
	}
	if ns := e.InvolvedObject.Namespace; ns != "" && ns != e.Namespace {
		errs = append(errs, &FieldError{Path: "involvedObject.namespace", Value: ns, Detail: "does not match event.namespace " + e.Namespace})
	}
	if e.Reason == "" {
		errs = append(errs, &FieldError{Path: "reason", Detail: "required"})
	}
	if e.Type != EventNormal && e.Type != EventWarning {
		errs = append(errs, &FieldError{Path: "type", Value: e.Type, Detail: "must be Normal or Warning"})
	}
	return errs.orNil()
}
