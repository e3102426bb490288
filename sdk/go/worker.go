package jetflow

import (
	"context"
	"crypto/tls"
	"crypto/x509"
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
	// connects itself (see URL) and drains the connection when Run returns. With Conn set, the
	// connection settings below (URL, User, Password, CredsFile, InboxPrefix, TLSCA, TLSCert,
	// TLSKey) are ignored.
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
	// TLSCA is a PEM file of the CA certificates that sign the NATS server's certificate.
	// Default: NATS_TLS_CA, else the system's roots when TLS is on.
	TLSCA string
	// TLSCert and TLSKey are the PEM files of a client certificate and its key, for a server
	// that verifies clients; set both or neither. Default: NATS_TLS_CERT and NATS_TLS_KEY.
	// When any of TLSCA, TLSCert and TLSKey is set, the worker connects with TLS (1.2 or newer)
	// and refuses a server that offers none. The files are read once, when Run connects.
	TLSCert, TLSKey string
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
	if opts.TLSCA == "" {
		opts.TLSCA = env("NATS_TLS_CA")
	}
	if opts.TLSCert == "" && opts.TLSKey == "" {
		opts.TLSCert, opts.TLSKey = env("NATS_TLS_CERT"), env("NATS_TLS_KEY")
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
	tlsOpts, err := w.tlsOptions()
	if err != nil {
		return nil, err
	}
	servers := strings.Join(strings.Fields(strings.ReplaceAll(w.opts.URL, ",", " ")), ",")
	if len(tlsOpts) == 0 {
		nc, err := nats.Connect(servers, opts...)
		if err != nil {
			return nil, fmt.Errorf("jetflow: cannot connect to NATS at %q: %w", servers, err)
		}
		return nc, nil
	}
	opts = append(opts, tlsOpts...)
	// With RetryOnFailedConnect, nats.go would retry a server without TLS (or with a certificate
	// TLSCA does not trust) forever and say nothing: a first attempt without it makes that an
	// error. Any other failure (a server not up yet) is retried as it is without TLS.
	nc, err := nats.Connect(servers, append(opts, nats.RetryOnFailedConnect(false))...)
	if err == nil {
		return nc, nil
	}
	if errors.Is(err, nats.ErrSecureConnWanted) {
		return nil, fmt.Errorf("jetflow: NATS at %q offers no TLS, and NATS_TLS_CA/NATS_TLS_CERT/NATS_TLS_KEY (Options.TLSCA/TLSCert/TLSKey) require it: %w", servers, err)
	}
	var unknownCA x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var hostname x509.HostnameError
	if errors.As(err, &unknownCA) || errors.As(err, &invalid) || errors.As(err, &hostname) {
		return nil, fmt.Errorf("jetflow: the certificate of NATS at %q is not trusted (NATS_TLS_CA, Options.TLSCA): %w", servers, err)
	}
	w.opts.Logger.Printf("jetflow: cannot connect to NATS at %q yet, retrying: %v", servers, err)
	if nc, err = nats.Connect(servers, opts...); err != nil {
		return nil, fmt.Errorf("jetflow: cannot connect to NATS at %q: %w", servers, err)
	}
	return nc, nil
}

// tlsOptions returns the nats.go options for TLSCA, TLSCert and TLSKey (none when all are
// empty), after checking that a certificate comes with its key and that each file can be read,
// naming the variable of a bad one.
func (w *Worker) tlsOptions() ([]nats.Option, error) {
	o := w.opts
	if o.TLSCA == "" && o.TLSCert == "" && o.TLSKey == "" {
		return nil, nil
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return nil, errors.New("jetflow: NATS_TLS_CERT and NATS_TLS_KEY (Options.TLSCert and TLSKey) must be set together")
	}
	files := []struct{ variable, field, path string }{
		{"NATS_TLS_CA", "TLSCA", o.TLSCA},
		{"NATS_TLS_CERT", "TLSCert", o.TLSCert},
		{"NATS_TLS_KEY", "TLSKey", o.TLSKey},
	}
	for _, f := range files {
		if f.path == "" {
			continue
		}
		file, err := os.Open(f.path)
		if err != nil {
			return nil, fmt.Errorf("jetflow: %s (Options.%s): cannot read %q: %w", f.variable, f.field, f.path, err)
		}
		_ = file.Close()
	}
	// Secure first: RootCAs and ClientCert fill in the tls.Config it sets.
	opts := []nats.Option{nats.Secure(&tls.Config{MinVersion: tls.VersionTLS12})}
	if o.TLSCA != "" {
		opts = append(opts, nats.RootCAs(o.TLSCA))
	}
	if o.TLSCert != "" {
		opts = append(opts, nats.ClientCert(o.TLSCert, o.TLSKey))
	}
	return opts, nil
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
