package jetflow

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Handler runs one task. Return the output (anything encoding/json can marshal; nil is null)
// or an error: an *Error keeps its ASL name, anything else becomes States.TaskFailed. ctx is
// cancelled when the handler should give up (see Cause).
type Handler func(ctx context.Context, task *Task) (any, error)

// Task is what a handler knows about the task it runs.
type Task struct {
	// Token identifies this attempt; the engine applies one result per token.
	Token string
	// ExecutionID is the execution running the state: top-level, or a child (a Parallel branch
	// or a Map iteration).
	ExecutionID string
	// RootExecutionID is the top-level execution (the id StartExecution returned): the key for
	// idempotency per execution.
	RootExecutionID string
	// StateName is the ASL state that scheduled the task.
	StateName string
	// Activity is the activity name the handler is registered for.
	Activity string
	// WorkflowName is the workflow of the execution.
	WorkflowName string
	// Attempt is 1 for the first attempt and grows with each ASL Retry.
	Attempt int
	// Input is the task's JSON input.
	Input json.RawMessage
	// ScheduledTime is when the engine published the task.
	ScheduledTime time.Time
	// Deadline is when the attempt times out (TimeoutSeconds); zero means none.
	Deadline time.Time
	// HeartbeatInterval is how often Heartbeat must be called (HeartbeatSeconds); 0 means never.
	HeartbeatInterval time.Duration
	// TraceParent is the task's W3C traceparent header ("" when the engine does not trace) and
	// TraceState its tracestate. The worker records no spans; a handler that does (with an
	// OpenTelemetry SDK of its own) can make them children of this one.
	TraceParent, TraceState string

	run *running
}

// Decode unmarshals the task's JSON input into v. Its error, returned by a handler, fails the
// task with States.TaskFailed.
func (t *Task) Decode(v any) error {
	if err := json.Unmarshal(t.Input, v); err != nil {
		return fmt.Errorf("task %q: cannot decode the input: %w", t.Token, err)
	}
	return nil
}

// Heartbeat tells the engine the task is still alive and asks whether it should go on. When
// the engine answers that the execution stopped (or the attempt is stale) the handler's
// context is cancelled and ErrCancelled is returned; a heartbeat that could not be delivered
// returns its error (the handler may go on and try again later).
func (t *Task) Heartbeat(ctx context.Context) error {
	return t.run.heartbeat(ctx)
}
