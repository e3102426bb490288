package jetflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"jetflow.dev/sdk/go/jetflowpb"
)

const (
	maxBackoff          = 5 * time.Second
	parkRetryDelay      = 30 * time.Second
	publishRetryTimeout = 5 * time.Second
)

// running is one task being handled.
type running struct {
	r         *activityRunner
	msg       *nats.Msg
	token     string
	cancel    context.CancelFunc
	reason    atomic.Value // error: why ctx was cancelled
	abandoned atomic.Bool  // handed back by stop(): its result must not be published
}

func (t *running) cause() error {
	if err, ok := t.reason.Load().(error); ok {
		return err
	}
	return nil
}

// abort cancels the handler's context, keeping the first reason given.
func (t *running) abort(reason error) {
	t.reason.CompareAndSwap(nil, reason)
	t.cancel()
}

// activityRunner pulls the tasks of one activity and runs its handler on them, never more
// than Concurrency at once: it asks the server only for as many tasks as it has free slots,
// so no task waits in a client-side buffer while its ack wait runs out.
type activityRunner struct {
	w        *Worker
	nc       *nats.Conn
	js       nats.JetStreamContext
	activity string
	handler  Handler

	sub       *nats.Subscription
	ackWait   atomic.Int64 // the task consumer's ack wait (a time.Duration); rebinding may change it
	cancelSub *nats.Subscription
	stopPull  context.CancelFunc
	loopDone  chan struct{}
	handlers  sync.WaitGroup
	mu        sync.Mutex
	byToken   map[string]*running
}

// inFlight is the number of tasks being handled now.
func (r *activityRunner) inFlight() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byToken)
}

func (r *activityRunner) start() error {
	if err := r.bind(); err != nil {
		return err
	}
	sub, err := r.nc.Subscribe(CancelSubject(r.activity), r.onCancellation)
	if err != nil {
		return fmt.Errorf("jetflow: cannot subscribe to the cancellations of %q: %w", r.activity, err)
	}
	r.cancelSub = sub
	ctx, cancel := context.WithCancel(context.Background())
	r.stopPull = cancel
	r.loopDone = make(chan struct{})
	go r.pullLoop(ctx)
	return nil
}

// bind finds the activity's consumer (the engine creates it at registration), creating it
// when missing, and subscribes to it.
func (r *activityRunner) bind() error {
	name := ConsumerName(r.activity)
	info, err := r.js.ConsumerInfo(TaskStream, name)
	if errors.Is(err, nats.ErrConsumerNotFound) {
		info, err = r.js.AddConsumer(TaskStream, &nats.ConsumerConfig{
			Durable:       name,
			FilterSubject: TaskSubject(r.activity),
			AckPolicy:     nats.AckExplicitPolicy,
			DeliverPolicy: nats.DeliverAllPolicy,
			AckWait:       r.w.opts.AckWait,
			MaxDeliver:    -1,
			MaxAckPending: 20000,
		})
		// Another worker may have created it meanwhile, with its own ack wait: use that one.
		if err != nil {
			var infoErr error
			if info, infoErr = r.js.ConsumerInfo(TaskStream, name); infoErr != nil {
				return fmt.Errorf("jetflow: cannot create consumer %s of %q: %w", name, r.activity, err)
			}
		}
	} else if err != nil {
		return fmt.Errorf("jetflow: consumer %s of %q: %w", name, r.activity, err)
	}
	// In-progress acks follow the consumer's own ack wait, whoever created it.
	ackWait := r.w.opts.AckWait
	if info != nil && info.Config.AckWait > 0 {
		ackWait = info.Config.AckWait
	}
	r.ackWait.Store(int64(ackWait))
	if r.sub != nil {
		_ = r.sub.Unsubscribe()
	}
	sub, err := r.js.PullSubscribe(TaskSubject(r.activity), name, nats.Bind(TaskStream, name))
	if err != nil {
		return fmt.Errorf("jetflow: cannot bind consumer %s of %q: %w", name, r.activity, err)
	}
	r.sub = sub
	return nil
}

func (r *activityRunner) pullLoop(ctx context.Context) {
	defer close(r.loopDone)
	slots := make(chan struct{}, r.w.opts.Concurrency)
	failures := 0
	for {
		// Wait for one free slot, then take every other free one.
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		free := 1
		for free < cap(slots) {
			select {
			case slots <- struct{}{}:
				free++
				continue
			default:
			}
			break
		}
		if failures >= 3 {
			if err := r.bind(); err != nil {
				r.w.opts.Logger.Printf("jetflow: rebinding %q failed: %v", r.activity, err)
			}
		}
		pullCtx, cancel := context.WithTimeout(ctx, r.w.opts.PullWait)
		msgs, err := r.sub.Fetch(free, nats.Context(pullCtx))
		cancel()
		for _, msg := range msgs {
			free--
			r.handlers.Add(1)
			go func(msg *nats.Msg) {
				defer func() { <-slots; r.handlers.Done() }()
				r.handle(msg)
			}(msg)
		}
		for ; free > 0; free-- {
			<-slots
		}
		switch {
		case ctx.Err() != nil:
			return
		case err == nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout):
			failures = 0
		default:
			failures++
			backoff := time.Duration(100<<failures) * time.Millisecond
			if backoff > maxBackoff || backoff <= 0 {
				backoff = maxBackoff
			}
			r.w.opts.Logger.Printf("jetflow: pulling tasks of %q failed (%d): %v", r.activity, failures, err)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return
			}
		}
	}
}

// stop stops pulling, waits for running handlers until deadline, then cancels the rest and
// NAKs their tasks so that another worker takes them.
func (r *activityRunner) stop(deadline time.Time) {
	r.stopPull()
	<-r.loopDone
	done := make(chan struct{})
	go func() { r.handlers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Until(deadline)):
		r.mu.Lock()
		for _, t := range r.byToken {
			t.abandoned.Store(true)
			_ = t.msg.Nak()
			t.abort(ErrShutdown)
			r.w.opts.Logger.Printf("jetflow: task %s handed back: the worker is stopping", t.token)
		}
		r.mu.Unlock()
		<-done
	}
	if r.cancelSub != nil {
		_ = r.cancelSub.Unsubscribe()
	}
}

func (r *activityRunner) handle(msg *nats.Msg) {
	var task jetflowpb.Task
	if err := proto.Unmarshal(msg.Data, &task); err != nil {
		r.park(msg, fmt.Sprintf("cannot decode jetflow.v1.Task: %v", err))
		return
	}
	if task.GetTaskToken() == "" {
		r.park(msg, "task has no task_token")
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	t := &running{r: r, msg: msg, token: task.GetTaskToken(), cancel: cancel}
	ctx = context.WithValue(ctx, causeKey{}, t)
	r.mu.Lock()
	r.byToken[t.token] = t
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		if r.byToken[t.token] == t {
			delete(r.byToken, t.token)
		}
		r.mu.Unlock()
	}()

	// Keep the task's ack wait from running out while the handler and the publish take time.
	stopKeepAlive := make(chan struct{})
	defer close(stopKeepAlive)
	go func() {
		ticker := time.NewTicker(time.Duration(r.ackWait.Load()) / 3)
		defer ticker.Stop()
		for {
			select {
			case <-ticker.C:
				if !t.abandoned.Load() {
					_ = msg.InProgress()
				}
			case <-stopKeepAlive:
				return
			}
		}
	}()
	var deadline time.Time
	if d := task.GetStartToCloseDeadline(); d != nil {
		deadline = d.AsTime()
		timer := time.AfterFunc(time.Until(deadline), func() { t.abort(ErrDeadline) })
		defer timer.Stop()
	}

	result := r.run(ctx, t, &task, deadline)
	if t.abandoned.Load() {
		return
	}
	r.publish(t, &task, result)
	if t.abandoned.Load() {
		return
	}
	// A plain ack: the result is stored, and if the ack is lost the redelivered task's result
	// is dropped as a duplicate.
	_ = msg.Ack()
}

func (r *activityRunner) run(ctx context.Context, t *running, pb *jetflowpb.Task, deadline time.Time) *jetflowpb.TaskResult {
	task := &Task{
		Token:             pb.GetTaskToken(),
		ExecutionID:       pb.GetExecutionId(),
		RootExecutionID:   pb.GetRootExecutionId(),
		StateName:         pb.GetStateName(),
		Activity:          r.activity,
		WorkflowName:      pb.GetWorkflowName(),
		Attempt:           int(pb.GetAttempt()),
		Input:             json.RawMessage(pb.GetInputJson()),
		Deadline:          deadline,
		HeartbeatInterval: time.Duration(pb.GetHeartbeatIntervalSeconds()) * time.Second,
		run:               t,
	}
	if task.TraceParent = headerValue(t.msg.Header, TraceParentHeader); task.TraceParent != "" {
		task.TraceState = headerValue(t.msg.Header, TraceStateHeader)
	}
	if task.RootExecutionID == "" {
		task.RootExecutionID = task.ExecutionID // an engine older than the field
	}
	if s := pb.GetScheduledTime(); s != nil {
		task.ScheduledTime = s.AsTime()
	}
	output, err := r.call(ctx, task)
	// Past its deadline the attempt has timed out, whatever the handler made of it: a late
	// success must not race the engine's own timeout.
	if errors.Is(t.cause(), ErrDeadline) || (!deadline.IsZero() && !time.Now().Before(deadline)) {
		return failure(t.token, TimeoutError, fmt.Sprintf("task %q passed its deadline %s", t.token, deadline.UTC().Format(time.RFC3339Nano)))
	}
	if err != nil {
		name, cause := failureOf(err)
		return failure(t.token, name, cause)
	}
	bytes, err := json.Marshal(output)
	if err != nil {
		return failure(t.token, RuntimeError, fmt.Sprintf("task output cannot be encoded as JSON: %v", err))
	}
	return &jetflowpb.TaskResult{
		TaskToken: t.token,
		Outcome:   &jetflowpb.TaskResult_OutputJson{OutputJson: string(bytes)},
	}
}

// call runs the handler, turning a panic into a States.TaskFailed error.
func (r *activityRunner) call(ctx context.Context, task *Task) (output any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return r.handler(ctx, task)
}

func failure(token, name, cause string) *jetflowpb.TaskResult {
	return &jetflowpb.TaskResult{
		TaskToken: token,
		Outcome:   &jetflowpb.TaskResult_Failure{Failure: &jetflowpb.TaskFailure{Error: name, Cause: cause}},
	}
}

// publish stores the result in JetStream, retrying until it is stored or the task was handed
// back. Nats-Msg-Id = token: a task run twice yields one stored result. Its headers also name the
// task's workflow and state, for the engine's log lines, and carry the task's trace context.
func (r *activityRunner) publish(t *running, task *jetflowpb.Task, result *jetflowpb.TaskResult) {
	result.WorkerId = r.w.opts.WorkerID
	result.CompletedTime = timestamppb.Now()
	bytes, err := proto.Marshal(result)
	if err != nil {
		r.w.opts.Logger.Printf("jetflow: cannot encode the result of %s: %v", t.token, err)
		bytes, _ = proto.Marshal(failure(t.token, RuntimeError, err.Error()))
	}
	msg := &nats.Msg{Subject: ResultSubject(r.activity), Data: bytes, Header: resultHeader(task, t.msg.Header)}
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), publishRetryTimeout)
		_, err := r.js.PublishMsg(msg, nats.MsgId(t.token), nats.Context(ctx))
		cancel()
		if err == nil || t.abandoned.Load() || r.nc.IsClosed() {
			return
		}
		backoff := time.Duration(100<<attempt) * time.Millisecond
		if backoff > maxBackoff || backoff <= 0 {
			backoff = maxBackoff
		}
		r.w.opts.Logger.Printf("jetflow: publishing the result of %s failed (%d): %v", t.token, attempt, err)
		time.Sleep(backoff)
	}
}

// resultHeader is the header of a task's result: its workflow and state, each left out when it
// cannot travel as a NATS header value (empty, a line break, surrounding space, or longer than
// MaxResultNameHeaderBytes), and the trace context of the task message (taskHeader), so that the
// engine's span of the result joins the task's trace. The worker starts no span of its own: the
// result's parent is the task's parent.
func resultHeader(task *jetflowpb.Task, taskHeader nats.Header) nats.Header {
	h := nats.Header{}
	if name := task.GetWorkflowName(); sendableHeaderValue(name) {
		h.Set(ResultWorkflowHeader, name)
	}
	if name := task.GetStateName(); sendableHeaderValue(name) {
		h.Set(ResultStateHeader, name)
	}
	if parent := headerValue(taskHeader, TraceParentHeader); parent != "" {
		h.Set(TraceParentHeader, parent)
		if state := headerValue(taskHeader, TraceStateHeader); state != "" {
			h.Set(TraceStateHeader, state)
		}
	}
	return h
}

// headerValue is the first value of a header, its name matched in any case (W3C trace context
// names are case-insensitive; nats.Header.Get is not), or "" when absent.
func headerValue(h nats.Header, name string) string {
	if v := h.Get(name); v != "" {
		return v
	}
	for key, values := range h {
		if strings.EqualFold(key, name) && len(values) > 0 && values[0] != "" {
			return values[0]
		}
	}
	return ""
}

func sendableHeaderValue(value string) bool {
	return value != "" && len(value) <= MaxResultNameHeaderBytes &&
		!strings.ContainsAny(value, "\r\n") && strings.TrimSpace(value) == value
}

func (t *running) heartbeat(ctx context.Context) error {
	r := t.r
	if t.abandoned.Load() {
		return ErrShutdown
	}
	_ = t.msg.InProgress()
	req, err := proto.Marshal(&jetflowpb.TaskResult{
		TaskToken:     t.token,
		Outcome:       &jetflowpb.TaskResult_Heartbeat{Heartbeat: &jetflowpb.TaskHeartbeat{}},
		WorkerId:      r.w.opts.WorkerID,
		CompletedTime: timestamppb.Now(),
	})
	if err != nil {
		return err
	}
	reqCtx, cancel := context.WithTimeout(ctx, r.w.opts.HeartbeatTimeout)
	defer cancel()
	msg, err := r.nc.RequestWithContext(reqCtx, HeartbeatSubject(r.activity), req)
	if err != nil {
		if cause := t.cause(); cause != nil {
			return cause
		}
		return fmt.Errorf("jetflow: heartbeat of %s: %w", t.token, err)
	}
	var reply jetflowpb.TaskHeartbeatReply
	if err := proto.Unmarshal(msg.Data, &reply); err != nil {
		return fmt.Errorf("jetflow: heartbeat reply of %s: %w", t.token, err)
	}
	if reply.GetCancelRequested() {
		r.w.opts.Logger.Printf("jetflow: task %s cancelled (heartbeat reply)", t.token)
		t.abort(ErrCancelled)
		return ErrCancelled
	}
	return nil
}

func (r *activityRunner) onCancellation(msg *nats.Msg) {
	var c jetflowpb.TaskCancellation
	if err := proto.Unmarshal(msg.Data, &c); err != nil {
		r.w.opts.Logger.Printf("jetflow: malformed task cancellation ignored: %v", err)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, token := range c.GetTaskTokens() {
		if t := r.byToken[token]; t != nil {
			r.w.opts.Logger.Printf("jetflow: task %s cancelled: %s", token, c.GetReason())
			t.abort(ErrCancelled)
		}
	}
}

// park puts a task that cannot be decoded on the dead-letter subject, then acks it.
func (r *activityRunner) park(msg *nats.Msg, reason string) {
	r.w.opts.Logger.Printf("jetflow: malformed task of %q parked: %s", r.activity, reason)
	letter, _ := proto.Marshal(&jetflowpb.DeadLetter{
		Service:    "worker",
		Subject:    msg.Subject,
		Data:       msg.Data,
		Reason:     reason,
		ParkedTime: timestamppb.Now(),
	})
	if _, err := r.js.Publish(DeadLetterSubject, letter); err != nil {
		// Keep the task rather than lose it; it comes back later, not in a tight loop.
		r.w.opts.Logger.Printf("jetflow: parking failed: %v", err)
		_ = msg.NakWithDelay(parkRetryDelay)
		return
	}
	_ = msg.AckSync()
}
