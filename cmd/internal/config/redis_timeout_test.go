package config

import (
	"strings"
	"testing"
	"time"
)

func TestRedisTimeout(t *testing.T) {
	base := "slack: {bot_token: xoxb-x}\nroutes: [{channel: C0123456789}]\n"
	for _, tt := range []struct {
		name    string
		redis   string
		want    time.Duration
		wantErr string
	}{
		{name: "default", redis: `{address: "127.0.0.1:6379"}`, want: time.Second},
		{name: "set", redis: `{address: "127.0.0.1:6379", timeout: 250ms}`, want: 250 * time.Millisecond},
		{name: "too short", redis: `{address: "127.0.0.1:6379", timeout: 1ms}`, wantErr: "store.redis.timeout: must be between 10ms and 1m"},
		{name: "too long", redis: `{address: "127.0.0.1:6379", timeout: 5m}`, wantErr: "store.redis.timeout: must be between 10ms and 1m"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(base + "store: {redis: " + tt.redis + "}\n"))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := time.Duration(cfg.Store.Redis.Timeout); got != tt.want {
				t.Errorf("timeout = %s, want %s", got, tt.want)
			}
		})
	}
}
