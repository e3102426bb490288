module jetflow.dev/examples/go-worker

go 1.19

require jetflow.dev/sdk/go v0.0.0-00010101000000-000000000000

require (
	github.com/nats-io/nats.go v1.22.1 // indirect
	github.com/nats-io/nkeys v0.3.0 // indirect
	github.com/nats-io/nuid v1.0.1 // indirect
	golang.org/x/crypto v0.4.0 // indirect
	google.golang.org/protobuf v1.28.1 // indirect
)

replace jetflow.dev/sdk/go => ../../sdk/go
