package slackapi

import "testing"

// TestScopeString pins the keys that logs, the storm report and the fake
// Slack's Violation show for each kind of scope.
func TestScopeString(t *testing.T) {
	tests := []struct {
		scope Scope
		want  string
	}{
		{ChannelScope("C1"), "chat.postMessage:C1"},
		{MethodScope("chat.update"), "method:chat.update"},
		{WorkspaceScope(), "workspace"},
		{WebhookScope("status"), "webhook:status"},
		{Scope{}, ""},
	}
	for _, tt := range tests {
		if got := tt.scope.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.scope, got, tt.want)
		}
	}
}
