// Package jetflow runs Go task handlers for jetflow workflows: a worker pulls the tasks of its
// activities (the Resource of ASL Task states) from NATS JetStream, runs one handler per task
// with bounded concurrency, publishes the result and only then acknowledges the task. It
// implements docs/task-protocol.md of the jetflow repository.
//
//	w := jetflow.NewWorker(jetflow.Options{}) // NATS_URL etc. from the environment
//	w.Handle("charge-card", func(ctx context.Context, t *jetflow.Task) (any, error) {
//		var in struct{ Amount int }
//		if err := t.Decode(&in); err != nil {
//			return nil, err
//		}
//		if in.Amount > 1000 {
//			return nil, jetflow.NewError("PaymentDeclined", "over the limit")
//		}
//		return map[string]int{"charged": in.Amount}, nil
//	})
//	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
//	defer stop()
//	if err := w.Run(ctx); err != nil {
//		log.Fatal(err)
//	}
//
// A handler's context is cancelled when the execution is stopped or the attempt is no longer
// current (learnt from heartbeat replies and cancellation broadcasts), when the task's deadline
// passes, and when the worker stops and gives up waiting for it; Cause tells which.
//
// While Run runs, the worker answers the presence ping on WorkersPingSubject with a
// WorkerPresence, so that `jetflow stats` counts it among the workers of its activities.
package jetflow
