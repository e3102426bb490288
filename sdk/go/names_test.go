package jetflow

import (
	"strings"
	"testing"

	"jetflow.dev/sdk/go/jetflowpb"
)

func TestActivityTokenKeepsSafeCharactersAndEscapesTheRest(t *testing.T) {
	cases := map[string]string{
		"send-email":          "send-email",
		"Send_Email_2":        "Send_Email_2",
		"billing.charge-card": "billing~2Echarge-card",
		"envoyer-reçu":        "envoyer-re~C3~A7u",
		"a b*>~":              "a~20b~2A~3E~7E",
	}
	for name, want := range cases {
		if got := ActivityToken(name); got != want {
			t.Errorf("ActivityToken(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestSubjectsAndConsumerNameUseTheToken(t *testing.T) {
	a := "billing.charge-card"
	got := []string{TaskSubject(a), ResultSubject(a), HeartbeatSubject(a), CancelSubject(a), ConsumerName(a)}
	want := []string{
		"jetflow.tasks.billing~2Echarge-card",
		"jetflow.results.billing~2Echarge-card",
		"jetflow.heartbeats.billing~2Echarge-card",
		"jetflow.cancel.billing~2Echarge-card",
		"tasks-billing~2Echarge-card",
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("got %q, want %q", got[i], want[i])
		}
	}
}

func TestConsumerNameOfALongActivityIsAHash(t *testing.T) {
	long := strings.Repeat("x", 195) // "tasks-" + 195 = 201 bytes
	got := ConsumerName(long)
	if !strings.HasPrefix(got, "tasks-~h") || len(got) != len("tasks-~h")+32 {
		t.Fatalf("ConsumerName(195 x) = %q, want tasks-~h and 32 hex digits", got)
	}
	if ConsumerName(strings.Repeat("x", 194)) != "tasks-"+strings.Repeat("x", 194) {
		t.Fatal("a name of exactly 200 bytes must stay as it is")
	}
}

func TestResultHeaderLeavesOutNamesThatCannotBeHeaderValues(t *testing.T) {
	h := resultHeader(&jetflowpb.Task{WorkflowName: "orders", StateName: "Charge card"}, nil)
	if h.Get(ResultWorkflowHeader) != "orders" || h.Get(ResultStateHeader) != "Charge card" {
		t.Errorf("header = %v", h)
	}
	for _, state := range []string{"", "two\nlines", "cr\r", " padded ", strings.Repeat("x", MaxResultNameHeaderBytes+1)} {
		h := resultHeader(&jetflowpb.Task{WorkflowName: "orders", StateName: state}, nil)
		if _, ok := h[ResultStateHeader]; ok {
			t.Errorf("state %q was sent: %v", state, h)
		}
		if h.Get(ResultWorkflowHeader) != "orders" {
			t.Errorf("workflow missing beside state %q: %v", state, h)
		}
	}
	if len(resultHeader(&jetflowpb.Task{}, nil)) != 0 {
		t.Error("a task without names gave headers")
	}
}
