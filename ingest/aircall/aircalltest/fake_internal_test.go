package aircalltest

import (
	"encoding/json"
	"testing"

	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

func TestFakeWebhookPayloadsUseWebhookNames(t *testing.T) {
	org := fixture.Generate(fixture.Spec{Days: 1})
	evs := NewFake(org, FakeOptions{}).webhookEvents(org.Calls[0], true)
	if len(evs) < 2 || evs[0].Event != "call.created" {
		t.Fatalf("events %+v", evs)
	}
	var data map[string]json.RawMessage
	if err := json.Unmarshal(evs[0].Data, &data); err != nil {
		t.Fatal(err)
	}
	if _, ok := data["participants"]; !ok {
		t.Error("webhook data lacks participants")
	}
	if _, ok := data["conference_participants"]; ok {
		t.Error("webhook data uses the REST name conference_participants")
	}
}
