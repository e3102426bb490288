package jetflow

// Tests of the TLS settings (TLSCA, TLSCert, TLSKey and their NATS_TLS_* variables). A TLS
// connection itself is tested end to end in e2e/test/nats-tls.int.test.ts.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func clearTLSEnv(t *testing.T) {
	for _, name := range []string{"NATS_TLS_CA", "NATS_TLS_CERT", "NATS_TLS_KEY"} {
		t.Setenv(name, "")
	}
}

// writeCA writes a self-signed CA certificate as PEM and returns its path.
func writeCA(t *testing.T) string {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runOnce runs a worker with one handler until it returns, its context done after 2 s.
func runOnce(t *testing.T, w *Worker) error {
	w.Handle("tls-test", func(ctx context.Context, task *Task) (any, error) { return nil, nil })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return w.Run(ctx)
}

func TestTLSFilesDefaultFromTheEnvironment(t *testing.T) {
	t.Setenv("NATS_TLS_CA", "/env/ca.pem")
	t.Setenv("NATS_TLS_CERT", "/env/cert.pem")
	t.Setenv("NATS_TLS_KEY", "/env/key.pem")
	w := NewWorker(Options{})
	if w.opts.TLSCA != "/env/ca.pem" || w.opts.TLSCert != "/env/cert.pem" || w.opts.TLSKey != "/env/key.pem" {
		t.Fatalf("from the environment: %q %q %q", w.opts.TLSCA, w.opts.TLSCert, w.opts.TLSKey)
	}
	w = NewWorker(Options{TLSCA: "/opt/ca.pem", TLSCert: "/opt/cert.pem", TLSKey: "/opt/key.pem"})
	if w.opts.TLSCA != "/opt/ca.pem" || w.opts.TLSCert != "/opt/cert.pem" || w.opts.TLSKey != "/opt/key.pem" {
		t.Fatalf("options override the environment: %q %q %q", w.opts.TLSCA, w.opts.TLSCert, w.opts.TLSKey)
	}
	// A pair given in Options is not completed from the environment.
	w = NewWorker(Options{TLSCert: "/opt/cert.pem"})
	if w.opts.TLSCA != "/env/ca.pem" || w.opts.TLSCert != "/opt/cert.pem" || w.opts.TLSKey != "" {
		t.Fatalf("half a pair in options: %q %q %q", w.opts.TLSCA, w.opts.TLSCert, w.opts.TLSKey)
	}
	clearTLSEnv(t)
	if opts, err := NewWorker(Options{}).tlsOptions(); err != nil || opts != nil {
		t.Fatalf("without TLS settings: %v %v", opts, err)
	}
}

func TestACertificateWithoutItsKeyIsAnError(t *testing.T) {
	clearTLSEnv(t)
	want := "NATS_TLS_CERT and NATS_TLS_KEY (Options.TLSCert and TLSKey) must be set together"
	// Port 1: nothing listens there, and the settings are checked before connecting.
	err := runOnce(t, NewWorker(Options{URL: "nats://127.0.0.1:1", TLSCert: "cert.pem"}))
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("a certificate without key: %v", err)
	}
	t.Setenv("NATS_TLS_KEY", "key.pem")
	err = runOnce(t, NewWorker(Options{URL: "nats://127.0.0.1:1"}))
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("NATS_TLS_KEY without NATS_TLS_CERT: %v", err)
	}
}

func TestAnUnreadableTLSFileIsAnErrorNamingItsVariable(t *testing.T) {
	clearTLSEnv(t)
	missing := filepath.Join(t.TempDir(), "missing.pem")
	err := runOnce(t, NewWorker(Options{URL: "nats://127.0.0.1:1", TLSCA: missing}))
	if err == nil || !strings.Contains(err.Error(), `NATS_TLS_CA (Options.TLSCA): cannot read "`+missing+`"`) {
		t.Fatalf("a missing CA file: %v", err)
	}
}

func TestAWorkerWithTLSRefusesAServerWithoutTLS(t *testing.T) {
	clearTLSEnv(t)
	url := startNats(t)
	t.Setenv("NATS_TLS_CA", writeCA(t))
	err := runOnce(t, NewWorker(Options{URL: url}))
	if err == nil || !strings.Contains(err.Error(), "offers no TLS") || !strings.Contains(err.Error(), "NATS_TLS_CA") {
		t.Fatalf("a plaintext server: %v", err)
	}
}

func TestTLSSettingsAreIgnoredWithAConnection(t *testing.T) {
	clearTLSEnv(t)
	nc, err := nats.Connect(startNats(t))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := runOnce(t, NewWorker(Options{Conn: nc, TLSCert: "cert.pem", TLSCA: "missing.pem"})); err != nil {
		t.Fatalf("Run with Conn and TLS settings: %v", err)
	}
}
