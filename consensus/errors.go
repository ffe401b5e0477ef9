package consensus

import (
	"errors"
	"fmt"

	"github.com/shoal-dev/shoal/api"
)

// NotFoundError: the object a command names does not exist.
type NotFoundError struct {
	Kind      string // Pod, Node
	Namespace string
	Name      string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("%s %q not found", kindLower(e.Kind), objName(e.Namespace, e.Name))
}

// AlreadyExistsError: a create named an object that exists.
type AlreadyExistsError struct {
	Kind      string
	Namespace string
	Name      string
}

func (e *AlreadyExistsError) Error() string {
	return fmt.Sprintf("%s %q already exists", kindLower(e.Kind), objName(e.Namespace, e.Name))
}

// ConflictError: the object is not in the state the command expected
// (another UID, another resourceVersion, already bound, bound elsewhere).
type ConflictError struct {
	Kind      string
	Namespace string
	Name      string
	Reason    string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s %q: conflict: %s", kindLower(e.Kind), objName(e.Namespace, e.Name), e.Reason)
}

// InvalidError: the command carries an object with invalid or immutable
// fields; Fields names each one.
type InvalidError struct {
	Kind      string
	Namespace string
	Name      string
	Fields    api.FieldErrors
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("%s %q is invalid: %s", kindLower(e.Kind), objName(e.Namespace, e.Name), e.Fields.Error())
}

// Unwrap lets errors.As find the field errors.
func (e *InvalidError) Unwrap() error { return e.Fields }

// RejectedError: the command is well formed but the state machine refuses
// it, e.g. "does not fit: node-a: memory 1.5Gi requested, 1.25Gi free".
type RejectedError struct {
	Reason string
}

func (e *RejectedError) Error() string { return e.Reason }

// ForbiddenError: the command is refused by a rule about where the object
// is (a namespace being deleted, a namespace that may not be deleted).
type ForbiddenError struct {
	Kind      string
	Namespace string
	Name      string
	Reason    string
}

func (e *ForbiddenError) Error() string {
	return fmt.Sprintf("%s %q is forbidden: %s", kindLower(e.Kind), objName(e.Namespace, e.Name), e.Reason)
}

// IsForbidden reports whether err is (or wraps) a ForbiddenError.
func IsForbidden(err error) bool { var e *ForbiddenError; return errors.As(err, &e) }

// IsNotFound reports whether err is (or wraps) a NotFoundError.
func IsNotFound(err error) bool { var e *NotFoundError; return errors.As(err, &e) }

// IsAlreadyExists reports whether err is (or wraps) an AlreadyExistsError.
func IsAlreadyExists(err error) bool { var e *AlreadyExistsError; return errors.As(err, &e) }

// IsConflict reports whether err is (or wraps) a ConflictError.
func IsConflict(err error) bool { var e *ConflictError; return errors.As(err, &e) }

// IsInvalid reports whether err is (or wraps) an InvalidError.
func IsInvalid(err error) bool { var e *InvalidError; return errors.As(err, &e) }

// IsRejected reports whether err is (or wraps) a RejectedError.
func IsRejected(err error) bool { var e *RejectedError; return errors.As(err, &e) }

func rejectf(format string, args ...any) error {
	return &RejectedError{Reason: fmt.Sprintf(format, args...)}
}

func objName(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}

func kindLower(kind string) string {
	switch kind {
	case kindPod:
		return "pod"
	case kindNode:
		return "node"
	}
	return kind
}

const (
	kindPod  = "Pod"
	kindNode = "Node"
)
