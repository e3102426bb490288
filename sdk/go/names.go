package jetflow

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Names of the NATS resources of the task protocol (task.proto's header lists them too).
const (
	// TaskStream is the work-queue stream holding every activity's tasks.
	TaskStream = "JETFLOW_TASKS"
	// ResultStream holds task results until the engine has taken them in.
	ResultStream = "JETFLOW_RESULTS"
	// DeadLetterStream keeps parked messages for 14 days.
	DeadLetterStream = "JETFLOW_DEAD_LETTERS"
	// DeadLetterSubject is where a worker parks a task it cannot decode.
	DeadLetterSubject = "jetflow.dlq.worker"
	// WorkersPingSubject is the presence ping: a core request every worker answers with a
	// WorkerPresence (no queue group), so that the engine's stats count the workers connected.
	WorkersPingSubject = "jetflow.workers.ping"
	// TimeoutError is the ASL error of an attempt past its deadline.
	TimeoutError = "States.Timeout"
	// TaskFailedError is the ASL error of an unclassified handler failure.
	TaskFailedError = "States.TaskFailed"
	// RuntimeError is the ASL error of an output that cannot be encoded as JSON.
	RuntimeError = "States.Runtime"
	// ResultWorkflowHeader is the optional header of a result naming the task's workflow_name,
	// for the engine's log lines only.
	ResultWorkflowHeader = "Jetflow-Workflow"
	// ResultStateHeader is the optional header of a result naming the task's state_name, for
	// the engine's log lines only.
	ResultStateHeader = "Jetflow-State"
	// MaxResultNameHeaderBytes is the longest value of either header; a longer name is not sent.
	MaxResultNameHeaderBytes = 1024
	// TraceParentHeader is the W3C trace context header of a task (set by the engine when it is
	// traced); the worker copies it onto the task's result, so the engine's trace goes on.
	TraceParentHeader = "traceparent"
	// TraceStateHeader is the W3C vendor trace state that may go with TraceParentHeader; it is
	// copied the same way.
	TraceStateHeader = "tracestate"

	maxConsumerNameBytes = 200
)

// ActivityToken is the subject token of an activity name: letters, digits, "_" and "-" stay;
// every other character is written as its UTF-8 bytes, each as "~" and two uppercase hex
// digits ("billing.charge-card" -> "billing~2Echarge-card").
func ActivityToken(activity string) string {
	var b strings.Builder
	for i := 0; i < len(activity); i++ {
		c := activity[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "~%02X", c)
		}
	}
	return b.String()
}

// TaskSubject is the subject of an activity's tasks.
func TaskSubject(activity string) string { return "jetflow.tasks." + ActivityToken(activity) }

// ResultSubject is the subject results of an activity are published on.
func ResultSubject(activity string) string { return "jetflow.results." + ActivityToken(activity) }

// HeartbeatSubject is the request subject of an activity's heartbeats.
func HeartbeatSubject(activity string) string {
	return "jetflow.heartbeats." + ActivityToken(activity)
}

// CancelSubject is where the engine broadcasts the cancellations of an activity's tasks.
func CancelSubject(activity string) string { return "jetflow.cancel." + ActivityToken(activity) }

// ConsumerName is the durable consumer shared by every worker of an activity: "tasks-<token>",
// or "tasks-~h" and 32 hex digits of the name's SHA-256 when that is longer than 200 bytes.
func ConsumerName(activity string) string {
	name := "tasks-" + ActivityToken(activity)
	if len(name) <= maxConsumerNameBytes {
		return name
	}
	sum := sha256.Sum256([]byte(activity))
	return "tasks-~h" + hex.EncodeToString(sum[:])[:32]
}
