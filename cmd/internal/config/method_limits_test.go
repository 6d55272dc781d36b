package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMethodLimits checks that the Slack-in path's Web API calls have
// limits by default, like the sender's, and that only methods amslack calls
// may be limited.
func TestMethodLimits(t *testing.T) {
	c, err := Parse([]byte("routes: [{channel: C0123456789}]\ndelivery: {method_per_minute: {views.open: 10}}"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"chat.update": 50, "views.open": 10, "views.update": 100, "views.publish": 100, "users.info": 100, "usergroups.users.list": 20}
	if diff := cmp.Diff(c.Delivery.MethodPerMinute, want); diff != "" {
		t.Errorf("method_per_minute (-got +want):\n%s", diff)
	}
	_, err = Parse([]byte("routes: [{channel: C0123456789}]\ndelivery: {method_per_minute: {chat.delete: 10}}"))
	if err == nil || !strings.Contains(err.Error(), "delivery.method_per_minute.chat.delete: amslack limits only the methods it calls: chat.postMessage, chat.update, views.open, views.update, views.publish, users.info, usergroups.users.list") {
		t.Errorf("Parse() error = %v, want one naming the methods amslack calls", err)
	}
}
