package jetflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/proto"

	"jetflow.dev/sdk/go/jetflowpb"
)

// Logger receives what the worker reports; *log.Logger fits. Default: nothing is logged.
type Logger interface {
	Printf(format string, args ...any)
}

// Options configure a Worker. Zero values take the defaults named on each field.
type Options struct {
	// Conn is the NATS connection to use; the worker never closes it. Default: the worker
	// connects itself (see URL) and drains the connection when Run returns.
	Conn *nats.Conn
	// URL lists the NATS servers, comma-separated. Default: NATS_URL, else nats://127.0.0.1:4222
	// (the local engine of ./scripts/start.sh listens on nats://127.0.0.1:4250).
	URL string
	// User and Password authenticate the connection. Default: NATS_USER and NATS_PASSWORD.
	User, Password string
	// CredsFile is a NATS .creds file. Default: NATS_CREDS.
	CredsFile string
	// InboxPrefix is the reply-inbox prefix, for a user that may use only its own. Default: NATS_INBOX_PREFIX.
	InboxPrefix string
	// Concurrency is the most handlers running at once, per activity. Default 10.
	Concurrency int
	// AckWait is the ack wait of a task consumer the worker creates; running handlers are kept
	// alive (in progress) every third of it. Default 30s.
	AckWait time.Duration
	// StopTimeout is how long Run waits for running handlers once its context is done before
	// it cancels them and hands their tasks back. Default 20s.
	StopTimeout time.Duration
	// HeartbeatTimeout is how long Heartbeat waits for its reply. Default 5s.
	HeartbeatTimeout time.Duration
	// PullWait is how long one pull for tasks waits on the server. Default 5s.
	PullWait time.Duration
	// NoStreamCreation stops the worker from creating the task and dead-letter streams when
	// they are missing (for a NATS user that may not). Default: JETFLOW_WORKER_ENSURE_STREAMS=false sets it.
	NoStreamCreation bool
	// WorkerID identifies the worker in results. Default <hostname>-<pid>.
	WorkerID string
	// Logger receives diagnostics. Default: none.
	Logger Logger
}

// Worker runs handlers on the tasks of its activities. Create it with NewWorker, register
// handlers with Handle, then call Run.
type Worker struct {
	opts     Options
	handlers map[string]Handler
	mu       sync.Mutex
	started  bool
}

// NewWorker returns a worker with opts, filling unset fields from the environment and defaults.
func NewWorker(opts Options) *Worker {
	env := os.Getenv
	if opts.URL == "" {
		opts.URL = env("NATS_URL")
	}
	if opts.URL == "" {
		opts.URL = nats.DefaultURL
	}
	if opts.User == "" && opts.Password == "" {
		opts.User, opts.Password = env("NATS_USER"), env("NATS_PASSWORD")
	}
	if opts.CredsFile == "" {
		opts.CredsFile = env("NATS_CREDS")
	}
	if opts.InboxPrefix == "" {
		opts.InboxPrefix = env("NATS_INBOX_PREFIX")
	}
	if env("JETFLOW_WORKER_ENSURE_STREAMS") == "false" {
		opts.NoStreamCreation = true
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 10
	}
	if opts.AckWait <= 0 {
		opts.AckWait = 30 * time.Second
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = 20 * time.Second
	}
	if opts.HeartbeatTimeout <= 0 {
		opts.HeartbeatTimeout = 5 * time.Second
	}
	if opts.PullWait <= 0 {
		opts.PullWait = 5 * time.Second
	}
	if opts.WorkerID == "" {
		host, _ := os.Hostname()
		opts.WorkerID = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if opts.Logger == nil {
		opts.Logger = log.New(io.Discard, "", 0)
	}
	return &Worker{opts: opts, handlers: map[string]Handler{}}
}

// Handle registers the handler of an activity (the name in the Task state's Resource, without
// an ARN prefix). It panics when called after Run or twice for one activity.
func (w *Worker) Handle(activity string, h Handler) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.started {
		panic("jetflow: Handle called after Run")
	}
	if activity == "" || h == nil {
		panic("jetflow: Handle needs an activity name and a handler")
	}
	if _, dup := w.handlers[activity]; dup {
		panic(fmt.Sprintf("jetflow: activity %q has a handler already", activity))
	}
	w.handlers[activity] = h
}

// Run connects (unless Options.Conn is set), binds each activity's task consumer (creating it
// when missing) and runs handlers until ctx is done. Then it stops pulling, waits up to
// StopTimeout for running handlers, cancels the rest (Cause: ErrShutdown) and hands their
// tasks back to the server, and returns nil. It reconnects to NATS forever while running.
func (w *Worker) Run(ctx context.Context) error {
	w.mu.Lock()
	if w.started {
		w.mu.Unlock()
		return errors.New("jetflow: Run called twice")
	}
	w.started = true
	w.mu.Unlock()
	if len(w.handlers) == 0 {
		return errors.New("jetflow: no handlers registered")
	}
	nc := w.opts.Conn
	if nc == nil {
		var err error
		if nc, err = w.connect(); err != nil {
			return err
		}
		defer func() { _ = nc.Drain() }()
	}
	js, err := nc.JetStream()
	if err != nil {
		return fmt.Errorf("jetflow: jetstream: %w", err)
	}
	if !w.opts.NoStreamCreation {
		if err := ensureStreams(js); err != nil {
			return err
		}
	}
	runners := make([]*activityRunner, 0, len(w.handlers))
	for activity, h := range w.handlers {
		r := &activityRunner{w: w, nc: nc, js: js, activity: activity, handler: h, byToken: map[string]*running{}}
		if err := r.start(); err != nil {
			for _, started := range runners {
				started.stop(time.Now())
			}
			return err
		}
		runners = append(runners, r)
	}
	presence, err := nc.Subscribe(WorkersPingSubject, func(msg *nats.Msg) { w.answerPing(msg, runners) })
	if err != nil {
		for _, started := range runners {
			started.stop(time.Now())
		}
		return fmt.Errorf("jetflow: cannot subscribe to %s: %w", WorkersPingSubject, err)
	}
	w.opts.Logger.Printf("jetflow: worker %s started (%d activities)", w.opts.WorkerID, len(runners))
	<-ctx.Done()
	_ = presence.Unsubscribe()
	deadline := time.Now().Add(w.opts.StopTimeout)
	var wg sync.WaitGroup
	for _, r := range runners {
		wg.Add(1)
		go func(r *activityRunner) {
			defer wg.Done()
			r.stop(deadline)
		}(r)
	}
	wg.Wait()
	// The acks and NAKs must reach the server before the connection closes.
	_ = nc.Flush()
	w.opts.Logger.Printf("jetflow: worker %s stopped", w.opts.WorkerID)
	return nil
}

// answerPing answers a presence ping with what the worker runs: its activities, concurrency
// and tasks running now.
func (w *Worker) answerPing(msg *nats.Msg, runners []*activityRunner) {
	if msg.Reply == "" {
		return
	}
	presence := &jetflowpb.WorkerPresence{
		WorkerId:    w.opts.WorkerID,
		Concurrency: uint32(w.opts.Concurrency),
		Sdk:         "go",
	}
	for _, r := range runners {
		presence.Activities = append(presence.Activities, r.activity)
		presence.InFlight += uint32(r.inFlight())
	}
	sort.Strings(presence.Activities)
	data, err := proto.Marshal(presence)
	if err != nil {
		w.opts.Logger.Printf("jetflow: cannot encode the presence reply: %v", err)
		return
	}
	_ = msg.Respond(data)
}

func (w *Worker) connect() (*nats.Conn, error) {
	opts := []nats.Option{
		nats.Name("jetflow-worker " + w.opts.WorkerID),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.RetryOnFailedConnect(true),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			w.opts.Logger.Printf("jetflow: disconnected from NATS: %v", err)
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			w.opts.Logger.Printf("jetflow: reconnected to %s", c.ConnectedUrl())
		}),
	}
	if w.opts.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(w.opts.CredsFile))
	} else if w.opts.User != "" {
		opts = append(opts, nats.UserInfo(w.opts.User, w.opts.Password))
	}
	if w.opts.InboxPrefix != "" {
		opts = append(opts, nats.CustomInboxPrefix(w.opts.InboxPrefix))
	}
	servers := strings.Join(strings.Fields(strings.ReplaceAll(w.opts.URL, ",", " ")), ",")
	nc, err := nats.Connect(servers, opts...)
	if err != nil {
		return nil, fmt.Errorf("jetflow: cannot connect to NATS at %q: %w", servers, err)
	}
	return nc, nil
}

// ensureStreams creates the task and dead-letter streams when missing, as the engine would:
// a worker may start before the engine. Existing streams are left as they are.
func ensureStreams(js nats.JetStreamContext) error {
	configs := []*nats.StreamConfig{
		{
			Name: TaskStream, Subjects: []string{"jetflow.tasks.>"}, Retention: nats.WorkQueuePolicy,
			Storage: nats.FileStorage, Duplicates: 2 * time.Minute,
		},
		{
			Name: DeadLetterStream, Subjects: []string{"jetflow.dlq.>"}, Retention: nats.LimitsPolicy,
			Storage: nats.FileStorage, Duplicates: 2 * time.Minute, MaxAge: 14 * 24 * time.Hour,
		},
	}
	for _, cfg := range configs {
		if _, err := js.StreamInfo(cfg.Name); err == nil {
			continue
		} else if !errors.Is(err, nats.ErrStreamNotFound) {
			return fmt.Errorf("jetflow: stream %s: %w", cfg.Name, err)
		}
		if _, err := js.AddStream(cfg); err != nil && !errors.Is(err, nats.ErrStreamNameAlreadyInUse) {
			return fmt.Errorf("jetflow: cannot create stream %s: %w", cfg.Name, err)
		}
	}
	return nil
}
