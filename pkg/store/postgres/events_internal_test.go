package postgres

import (
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/store"
)

func TestChannelName(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	long := strings.Repeat("s", 63)
	for _, tc := range []struct{ schema, want string }{
		{"public", "gatehouse_events_public"},
		{"gatehouse_test_1700000000_0123456789ab", "gatehouse_events_gatehouse_test_1700000000_0123456789ab"},
		{"Public", "gatehouse_events_h" + "591935b15b1c88e2d5f6be0a054604fc"},
		{"my-schema", ""},
		{"schéma", ""},
		{long, ""},
		{long[:46], "gatehouse_events_" + long[:46]},
		{long[:47], ""},
	} {
		got := channelName(tc.schema)
		if len(got) > maxIdentifier || !valid.MatchString(got) || !strings.HasPrefix(got, channelPrefix) {
			t.Errorf("channelName(%q) = %q: not a plain identifier of at most %d bytes", tc.schema, got, maxIdentifier)
		}
		if tc.want != "" && got != tc.want {
			t.Errorf("channelName(%q) = %q, want %q", tc.schema, got, tc.want)
		}
	}
	if channelName("a-b") == channelName("a_b") || channelName("A") == channelName("a") {
		t.Error("distinct schemas share a channel")
	}
}

func TestEventPayload(t *testing.T) {
	hash := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name    string
		ev      store.Event
		payload string
		reset   bool
	}{
		{name: "token", ev: store.Event{Kind: store.EventToken, Key: hash}, payload: "token:" + hash},
		{name: "api key", ev: store.Event{Kind: store.EventAPIKey, Key: hash}, payload: "apikey:" + hash},
		{name: "user", ev: store.Event{Kind: store.EventUser, Key: "alice"}, payload: "user:alice"},
		{name: "user with colons", ev: store.Event{Kind: store.EventUser, Key: "ad:alice:"}, payload: "user:ad:alice:"},
		{name: "empty key", ev: store.Event{Kind: store.EventUser, Key: ""}, payload: "user:"},
		{name: "longest", ev: store.Event{Kind: store.EventUser, Key: strings.Repeat("é", (maxPayload-5)/2)},
			payload: "user:" + strings.Repeat("é", (maxPayload-5)/2)},
		{name: "too long", ev: store.Event{Kind: store.EventUser, Key: strings.Repeat("u", maxPayload)},
			payload: "reset:", reset: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := encodeEvent(tc.ev)
			if p != tc.payload {
				t.Fatalf("encodeEvent = %.40q..., want %.40q...", p, tc.payload)
			}
			got, ok := decodeEvent(p)
			if ok == tc.reset || (ok && got != tc.ev) {
				t.Errorf("decodeEvent(%.40q) = %+v, %v", p, got, ok)
			}
		})
	}
}

func TestDecodeEventUnknown(t *testing.T) {
	for _, p := range []string{"", "token", "reset:", "reset:x", "group:admins", "TOKEN:ab", ":ab"} {
		if ev, ok := decodeEvent(p); ok {
			t.Errorf("decodeEvent(%q) = %+v, true; want a reset", p, ev)
		}
	}
}
