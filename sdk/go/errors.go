package jetflow

import (
	"context"
	"errors"
	"fmt"
)

// Error is a handler failure with an ASL error name, which the workflow's Retry and Catch
// match. Any other error a handler returns becomes States.TaskFailed.
type Error struct {
	// Name is the ASL error name, for example "PaymentDeclined" (at most 256 characters).
	Name string
	// Cause explains the failure to a human.
	Cause string
}

// NewError returns an *Error with the given ASL error name and cause.
func NewError(name, cause string) *Error { return &Error{Name: name, Cause: cause} }

// Errorf returns an *Error whose cause is formatted like fmt.Sprintf.
func Errorf(name, format string, args ...any) *Error {
	return &Error{Name: name, Cause: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string { return e.Name + ": " + e.Cause }

// Why a handler's context was cancelled; see Cause.
var (
	// ErrCancelled: the execution was stopped or finished, or the attempt is no longer current.
	ErrCancelled = errors.New("jetflow: task cancelled: the execution stopped or the attempt is no longer current")
	// ErrDeadline: the task's start-to-close deadline passed; the attempt is reported as States.Timeout.
	ErrDeadline = errors.New("jetflow: task deadline passed")
	// ErrShutdown: the worker stopped and handed the task to another worker; the result is dropped.
	ErrShutdown = errors.New("jetflow: worker stopping: task handed back")
)

type causeKey struct{}

// Cause tells why a handler's context was cancelled: ErrCancelled, ErrDeadline or ErrShutdown,
// or nil while it is not.
func Cause(ctx context.Context) error {
	if r, ok := ctx.Value(causeKey{}).(*running); ok {
		return r.cause()
	}
	return nil
}

// failureOf turns what a handler returned into the wire failure: an *Error anywhere in the
// chain keeps its name, anything else is States.TaskFailed.
func failureOf(err error) (name, cause string) {
	var e *Error
	if errors.As(err, &e) && e.Name != "" {
		return truncate(e.Name, 256), truncate(e.Cause, 32768)
	}
	return TaskFailedError, truncate(err.Error(), 32768)
}

func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return s[:max]
}
