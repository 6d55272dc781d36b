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

// TestRedisLeaseAndAcks checks the defaults and bounds of
// store.redis.lease_ttl and min_replicas_to_ack.
func TestRedisLeaseAndAcks(t *testing.T) {
	for _, tt := range []struct {
		name, redis string
		wantTTL     time.Duration
		wantAcks    int
		wantErr     string
	}{
		{name: "defaults", redis: `{address: "127.0.0.1:6379"}`, wantTTL: 15 * time.Second},
		{name: "set", redis: `{address: "127.0.0.1:6379", lease_ttl: 5s, min_replicas_to_ack: 1}`, wantTTL: 5 * time.Second, wantAcks: 1},
		{name: "ttl under three timeouts", redis: `{address: "127.0.0.1:6379", timeout: 1s, lease_ttl: 2s}`, wantErr: "store.redis.lease_ttl: must be between 3×store.redis.timeout (3s) and 10m, got 2s"},
		{name: "negative acks", redis: `{address: "127.0.0.1:6379", min_replicas_to_ack: -1}`, wantErr: "store.redis.min_replicas_to_ack: must not be negative, got -1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte("slack: {bot_token: xoxb-x}\nroutes: [{channel: C0123456789}]\nstore: {redis: " + tt.redis + "}\n"))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r := c.Store.Redis
			if time.Duration(r.LeaseTTL) != tt.wantTTL || r.MinReplicasToAck != tt.wantAcks {
				t.Errorf("lease_ttl %s, min_replicas_to_ack %d; want %s, %d", r.LeaseTTL, r.MinReplicasToAck, tt.wantTTL, tt.wantAcks)
			}
		})
	}
}

// TestFollowUpInterval checks the default and bounds of
// interactions.follow_up_interval.
func TestFollowUpInterval(t *testing.T) {
	base := "slack: {bot_token: xoxb-x}\nroutes: [{channel: C0123456789}]\n"
	c, err := Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if got := time.Duration(c.Interactions.FollowUpInterval); got != 15*time.Second {
		t.Errorf("default follow_up_interval = %s, want 15s", got)
	}
	for _, v := range []string{"500ms", "10m"} {
		_, err := Parse([]byte(base + "interactions: {follow_up_interval: " + v + "}\n"))
		if err == nil || !strings.Contains(err.Error(), "interactions.follow_up_interval: must be between 1s and 5m, got "+v) {
			t.Errorf("follow_up_interval %s: err = %v, want it refused", v, err)
		}
	}
}
