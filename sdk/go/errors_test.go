package jetflow

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestFailureOfKeepsTheASLNameOfAnError(t *testing.T) {
	wrapped := fmt.Errorf("charging: %w", NewError("PaymentDeclined", "over the limit"))
	if name, cause := failureOf(wrapped); name != "PaymentDeclined" || cause != "over the limit" {
		t.Fatalf("failureOf = %q, %q", name, cause)
	}
}

func TestFailureOfMakesOtherErrorsTaskFailed(t *testing.T) {
	if name, cause := failureOf(errors.New("boom")); name != TaskFailedError || cause != "boom" {
		t.Fatalf("failureOf = %q, %q", name, cause)
	}
	if name, _ := failureOf(NewError("", "no name")); name != TaskFailedError {
		t.Fatalf("an unnamed *Error must be %s, got %q", TaskFailedError, name)
	}
}

func TestCauseIsNilOutsideAHandlerAndKeepsTheFirstReason(t *testing.T) {
	if Cause(context.Background()) != nil {
		t.Fatal("Cause of a plain context must be nil")
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel}
	ctx = context.WithValue(ctx, causeKey{}, r)
	r.abort(ErrCancelled)
	r.abort(ErrShutdown)
	if ctx.Err() == nil || !errors.Is(Cause(ctx), ErrCancelled) {
		t.Fatalf("ctx.Err() = %v, Cause = %v; want cancelled with ErrCancelled", ctx.Err(), Cause(ctx))
	}
}
