package jetflow

// Tests of the worker against a real nats-server (no engine): the server is started per test
// from NATS_SERVER_BIN, PATH or /usr/sbin/nats-server (Debian's nats-server package), on a free
// loopback port picked by the server itself.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"jetflow.dev/sdk/go/jetflowpb"
)

func natsServerBin(t *testing.T) string {
	if bin := os.Getenv("NATS_SERVER_BIN"); bin != "" {
		return bin
	}
	if bin, err := exec.LookPath("nats-server"); err == nil {
		return bin
	}
	if _, err := os.Stat("/usr/sbin/nats-server"); err == nil {
		return "/usr/sbin/nats-server"
	}
	t.Fatal("nats-server not found: install it (apt-get install nats-server) or set NATS_SERVER_BIN")
	return ""
}

// startNats starts a JetStream nats-server and returns its URL; it is stopped with the test.
func startNats(t *testing.T) string {
	dir := t.TempDir()
	conf := filepath.Join(dir, "nats.conf")
	config := fmt.Sprintf("listen: 127.0.0.1:-1\nports_file_dir: %q\njetstream { store_dir: %q }\n", dir, filepath.Join(dir, "js"))
	if err := os.WriteFile(conf, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(natsServerBin(t), "-c", conf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		files, _ := filepath.Glob(filepath.Join(dir, "*.ports"))
		if len(files) == 1 {
			var ports struct {
				Nats []string `json:"nats"`
			}
			if data, err := os.ReadFile(files[0]); err == nil && json.Unmarshal(data, &ports) == nil && len(ports.Nats) > 0 {
				return ports.Nats[0]
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("nats-server did not write its ports file")
	return ""
}

func publishTask(t *testing.T, js nats.JetStreamContext, activity, token string, input any) {
	data, _ := json.Marshal(input)
	bytes, _ := proto.Marshal(&jetflowpb.Task{
		TaskToken: token, ExecutionId: "exec-1", RootExecutionId: "exec-1", StateName: "S",
		Activity: activity, Attempt: 1, InputJson: string(data), ScheduledTime: timestamppb.Now(),
	})
	if _, err := js.Publish(TaskSubject(activity), bytes, nats.MsgId(token)); err != nil {
		t.Fatal(err)
	}
}

// results reads `count` results of an activity with a consumer of the test's own.
func results(t *testing.T, js nats.JetStreamContext, activity string, count int) map[string]*jetflowpb.TaskResult {
	if _, err := js.AddStream(&nats.StreamConfig{Name: ResultStream, Subjects: []string{"jetflow.results.>"}}); err != nil &&
		!errors.Is(err, nats.ErrStreamNameAlreadyInUse) {
		t.Fatal(err)
	}
	sub, err := js.PullSubscribe(ResultSubject(activity), "", nats.BindStream(ResultStream))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*jetflowpb.TaskResult{}
	deadline := time.Now().Add(20 * time.Second)
	for len(got) < count && time.Now().Before(deadline) {
		msgs, _ := sub.Fetch(count-len(got), nats.MaxWait(time.Second))
		for _, m := range msgs {
			var r jetflowpb.TaskResult
			if err := proto.Unmarshal(m.Data, &r); err != nil {
				t.Fatal(err)
			}
			if m.Header.Get("Nats-Msg-Id") != r.TaskToken {
				t.Errorf("result of %s has Nats-Msg-Id %q", r.TaskToken, m.Header.Get("Nats-Msg-Id"))
			}
			got[r.TaskToken] = &r
			_ = m.Ack()
		}
	}
	if len(got) != count {
		t.Fatalf("got %d results, want %d", len(got), count)
	}
	return got
}

func connectJS(t *testing.T, url string) (*nats.Conn, nats.JetStreamContext) {
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

func TestWorkerRunsHandlersWithBoundedConcurrencyAndPublishesResults(t *testing.T) {
	url := startNats(t)
	_, js := connectJS(t, url)
	var inFlight, most int32
	w := NewWorker(Options{URL: url, Concurrency: 3})
	w.Handle("double", func(ctx context.Context, task *Task) (any, error) {
		n := atomic.AddInt32(&inFlight, 1)
		defer atomic.AddInt32(&inFlight, -1)
		for m := atomic.LoadInt32(&most); n > m && !atomic.CompareAndSwapInt32(&most, m, n); m = atomic.LoadInt32(&most) {
		}
		time.Sleep(50 * time.Millisecond)
		var in struct{ N int }
		if err := task.Decode(&in); err != nil {
			return nil, err
		}
		if in.N == 13 {
			return nil, NewError("Unlucky", "13")
		}
		return map[string]int{"doubled": in.N * 2}, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() { cancel(); <-done }()

	waitForStream(t, js)
	for i := 1; i <= 13; i++ {
		publishTask(t, js, "double", fmt.Sprintf("exec-1.%d", i), map[string]int{"N": i})
	}
	got := results(t, js, "double", 13)
	if out := got["exec-1.4"].GetOutputJson(); out != `{"doubled":8}` {
		t.Errorf("output of task 4 = %q", out)
	}
	if f := got["exec-1.13"].GetFailure(); f.GetError() != "Unlucky" || f.GetCause() != "13" {
		t.Errorf("failure of task 13 = %v", f)
	}
	if m := atomic.LoadInt32(&most); m > 3 || m < 2 {
		t.Errorf("at most %d handlers ran at once, want 2..3 (Concurrency 3)", m)
	}
}

func TestStopCancelsUnfinishedHandlersAndHandsTheirTasksBack(t *testing.T) {
	url := startNats(t)
	_, js := connectJS(t, url)
	started := make(chan struct{})
	var cause atomic.Value
	w := NewWorker(Options{URL: url, StopTimeout: 200 * time.Millisecond})
	w.Handle("forever", func(ctx context.Context, task *Task) (any, error) {
		close(started)
		<-ctx.Done()
		cause.Store(Cause(ctx))
		return "too late", nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	waitForStream(t, js)
	if _, err := js.AddStream(&nats.StreamConfig{Name: ResultStream, Subjects: []string{"jetflow.results.>"}}); err != nil {
		t.Fatal(err)
	}
	publishTask(t, js, "forever", "exec-1.1", map[string]int{})
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not start")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if c, _ := cause.Load().(error); !errors.Is(c, ErrShutdown) {
		t.Fatalf("Cause = %v, want ErrShutdown", c)
	}
	// The task is back in the stream for another worker, and no result was published.
	info, err := js.ConsumerInfo(TaskStream, ConsumerName("forever"))
	if err != nil {
		t.Fatal(err)
	}
	if info.NumAckPending+int(info.NumPending) != 1 {
		t.Fatalf("the task was not handed back: %+v", info)
	}
	if stream, err := js.StreamInfo(ResultStream); err != nil || stream.State.Msgs != 0 {
		t.Fatalf("the abandoned handler's result was published: %+v, %v", stream, err)
	}
}

func waitForStream(t *testing.T, js nats.JetStreamContext) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := js.StreamInfo(TaskStream); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the worker did not create " + TaskStream)
}

func TestResultsNameTheTasksWorkflowAndStateInHeaders(t *testing.T) {
	url := startNats(t)
	_, js := connectJS(t, url)
	w := NewWorker(Options{URL: url})
	w.Handle("named", func(ctx context.Context, task *Task) (any, error) { return true, nil })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() { cancel(); <-done }()

	waitForStream(t, js)
	if _, err := js.AddStream(&nats.StreamConfig{Name: ResultStream, Subjects: []string{"jetflow.results.>"}}); err != nil &&
		!errors.Is(err, nats.ErrStreamNameAlreadyInUse) {
		t.Fatal(err)
	}
	bytes, _ := proto.Marshal(&jetflowpb.Task{
		TaskToken: "exec-7.1", ExecutionId: "exec-7", RootExecutionId: "exec-7", StateName: "Charge card ✓",
		WorkflowName: "orders", Activity: "named", Attempt: 1, InputJson: "{}", ScheduledTime: timestamppb.Now(),
	})
	if _, err := js.Publish(TaskSubject("named"), bytes, nats.MsgId("exec-7.1")); err != nil {
		t.Fatal(err)
	}
	sub, err := js.PullSubscribe(ResultSubject("named"), "", nats.BindStream(ResultStream))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		msgs, _ := sub.Fetch(1, nats.MaxWait(time.Second))
		if len(msgs) == 0 {
			continue
		}
		m := msgs[0]
		if got := m.Header.Get(ResultWorkflowHeader); got != "orders" {
			t.Errorf("%s = %q, want orders", ResultWorkflowHeader, got)
		}
		if got := m.Header.Get(ResultStateHeader); got != "Charge card ✓" {
			t.Errorf("%s = %q, want Charge card ✓", ResultStateHeader, got)
		}
		if got := m.Header.Get("Nats-Msg-Id"); got != "exec-7.1" {
			t.Errorf("Nats-Msg-Id = %q, want exec-7.1", got)
		}
		return
	}
	t.Fatal("no result of the task")
}

func TestResultsCarryTheTasksTraceContext(t *testing.T) {
	url := startNats(t)
	_, js := connectJS(t, url)
	var seen sync.Map // token -> the handler's Task.TraceParent + " " + Task.TraceState
	w := NewWorker(Options{URL: url})
	w.Handle("traced", func(ctx context.Context, task *Task) (any, error) {
		seen.Store(task.Token, task.TraceParent+" "+task.TraceState)
		return true, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() { cancel(); <-done }()

	waitForStream(t, js)
	if _, err := js.AddStream(&nats.StreamConfig{Name: ResultStream, Subjects: []string{"jetflow.results.>"}}); err != nil &&
		!errors.Is(err, nats.ErrStreamNameAlreadyInUse) {
		t.Fatal(err)
	}
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	tasks := map[string]nats.Header{
		"exec-8.1": {"traceparent": {parent}, "tracestate": {"vendor=opaque"}},
		"exec-8.2": {"Traceparent": {parent}}, // W3C header names are case-insensitive
		"exec-8.3": {"tracestate": {"vendor=alone"}},
	}
	for token, header := range tasks {
		bytes, _ := proto.Marshal(&jetflowpb.Task{
			TaskToken: token, ExecutionId: "exec-8", RootExecutionId: "exec-8", StateName: "S",
			WorkflowName: "w", Activity: "traced", Attempt: 1, InputJson: "{}", ScheduledTime: timestamppb.Now(),
		})
		header.Set("Nats-Msg-Id", token)
		if _, err := js.PublishMsg(&nats.Msg{Subject: TaskSubject("traced"), Data: bytes, Header: header}); err != nil {
			t.Fatal(err)
		}
	}
	sub, err := js.PullSubscribe(ResultSubject("traced"), "", nats.BindStream(ResultStream))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]nats.Header{}
	deadline := time.Now().Add(20 * time.Second)
	for len(got) < len(tasks) && time.Now().Before(deadline) {
		msgs, _ := sub.Fetch(len(tasks)-len(got), nats.MaxWait(time.Second))
		for _, m := range msgs {
			got[m.Header.Get("Nats-Msg-Id")] = m.Header
			_ = m.Ack()
		}
	}
	if len(got) != len(tasks) {
		t.Fatalf("got %d results, want %d", len(got), len(tasks))
	}
	want := map[string][2]string{ // token -> traceparent, tracestate of the result
		"exec-8.1": {parent, "vendor=opaque"},
		"exec-8.2": {parent, ""},
		"exec-8.3": {"", ""}, // a tracestate without a traceparent means nothing
	}
	for token, w := range want {
		h := got[token]
		if p, s := h.Get(TraceParentHeader), h.Get(TraceStateHeader); p != w[0] || s != w[1] {
			t.Errorf("result of %s: traceparent %q, tracestate %q; want %q, %q", token, p, s, w[0], w[1])
		}
		if h.Get(ResultWorkflowHeader) != "w" || h.Get(ResultStateHeader) != "S" {
			t.Errorf("result of %s lost its workflow and state headers: %v", token, h)
		}
		if v, _ := seen.Load(token); v != w[0]+" "+w[1] {
			t.Errorf("the handler of %s saw TraceParent and TraceState %q, want %q", token, v, w[0]+" "+w[1])
		}
	}
}

func TestWorkerAnswersPresencePingsWhileRunning(t *testing.T) {
	url := startNats(t)
	nc, _ := connectJS(t, url)
	release := make(chan struct{})
	w := NewWorker(Options{URL: url, Concurrency: 4, WorkerID: "go-presence"})
	w.Handle("b.act", func(ctx context.Context, task *Task) (any, error) { <-release; return nil, nil })
	w.Handle("a-act", func(ctx context.Context, task *Task) (any, error) { return nil, nil })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer close(release)

	var presence jetflowpb.WorkerPresence
	deadline := time.Now().Add(10 * time.Second)
	for {
		msg, err := nc.Request(WorkersPingSubject, nil, 500*time.Millisecond)
		if err == nil {
			if err := proto.Unmarshal(msg.Data, &presence); err != nil {
				t.Fatal(err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no presence reply: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if presence.WorkerId != "go-presence" || presence.Sdk != "go" || presence.Concurrency != 4 ||
		len(presence.Activities) != 2 || presence.Activities[0] != "a-act" || presence.Activities[1] != "b.act" {
		t.Errorf("presence = %v", &presence)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Request(WorkersPingSubject, nil, 500*time.Millisecond); !errors.Is(err, nats.ErrNoResponders) {
		t.Errorf("a stopped worker still answers (err %v)", err)
	}
}
