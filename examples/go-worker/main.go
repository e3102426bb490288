// The example Go worker: serves the activities of the Go example workflow
// (workflows/go-payment.asl.yaml) with the jetflow Go SDK. It reads NATS_URL (the local engine
// of ./scripts/start.sh is nats://127.0.0.1:4250) and stops gracefully on SIGTERM or Ctrl-C.
package main

import (
	"context"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	jetflow "jetflow.dev/sdk/go"
)

func main() {
	logger := log.New(os.Stderr, "", log.LstdFlags|log.Lmicroseconds)
	w := jetflow.NewWorker(jetflow.Options{Logger: logger, StopTimeout: 5 * time.Second})

	w.Handle("go-greet", func(ctx context.Context, t *jetflow.Task) (any, error) {
		var in struct {
			Who string `json:"who"`
		}
		if err := t.Decode(&in); err != nil {
			return nil, err
		}
		return map[string]any{"greeting": "hello " + in.Who, "execution": t.RootExecutionID}, nil
	})

	// Declines large amounts with an ASL error that the workflow's Catch handles.
	w.Handle("go-charge", func(ctx context.Context, t *jetflow.Task) (any, error) {
		var in struct {
			Amount int `json:"amount"`
		}
		if err := t.Decode(&in); err != nil {
			return nil, err
		}
		if in.Amount > 1000 {
			return nil, jetflow.Errorf("PaymentDeclined", "amount %d is over the limit of 1000", in.Amount)
		}
		return map[string]int{"charged": in.Amount}, nil
	})

	// Fails its first two attempts, which the workflow's Retry absorbs.
	w.Handle("go-flaky", func(ctx context.Context, t *jetflow.Task) (any, error) {
		if t.Attempt < 3 {
			return nil, jetflow.Errorf("GatewayUnavailable", "attempt %d: the gateway is busy", t.Attempt)
		}
		return map[string]int{"attempts": t.Attempt}, nil
	})

	// Works without heartbeating: a state with HeartbeatSeconds times it out.
	w.Handle("go-silent", func(ctx context.Context, t *jetflow.Task) (any, error) {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Minute):
			return map[string]bool{"finished": true}, nil
		}
	})

	// Heartbeats until its context is cancelled (the execution was stopped), then says why.
	w.Handle("go-wait-for-stop", func(ctx context.Context, t *jetflow.Task) (any, error) {
		logger.Printf("waiting for a stop: task=%s execution=%s", t.Token, t.RootExecutionID)
		ticker := time.NewTicker(200 * time.Millisecond)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				logger.Printf("handler context cancelled: task=%s execution=%s cause=%v", t.Token, t.RootExecutionID, jetflow.Cause(ctx))
				return nil, ctx.Err()
			case <-ticker.C:
				if err := t.Heartbeat(ctx); err != nil && err != jetflow.ErrCancelled {
					logger.Printf("heartbeat failed: %v", err)
				}
			}
		}
	})

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger.Printf("go example worker starting")
	if err := w.Run(ctx); err != nil {
		logger.Fatal(err)
	}
}
