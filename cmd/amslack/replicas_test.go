package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

const redisAddr = "127.0.0.1:6379"

// requireRedis skips without a Redis server, or fails under CI=true.
func requireRedis(t *testing.T) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: redisAddr})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		msg := fmt.Sprintf("no Redis at %s (%v): start redis-server on 127.0.0.1:6379 (apt-get install redis-server)", redisAddr, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestReplicasShareRedis runs two amslack replicas on one Redis: a group
// posted by one is clicked and resolved through the other, in the same
// Slack message.
func TestReplicasShareRedis(t *testing.T) {
	rdb := requireRedis(t)
	prefix := fmt.Sprintf("amslack-test-%d:", time.Now().UnixNano())
	t.Cleanup(func() {
		keys, _ := rdb.Keys(context.Background(), prefix+"*").Result()
		if len(keys) > 0 {
			rdb.Del(context.Background(), keys...)
		}
	})
	fake, slackURL := fakeSlack(t, slackfake.SlackRateLimits())
	cfg := fmt.Sprintf(`
slack: {api_url: %s/api/, bot_token: xoxb-x, signing_secret: %s}
store: {redis: {address: %q, key_prefix: %q}}
routes: [{name: default, channel: %s}]
interactions: {ack_mode: state}
`, slackURL, signingSecret, redisAddr, prefix, testChannel)
	a := startAmslack(t, cfg, "")
	b := startAmslack(t, cfg, "")

	if code, body := postWebhook(t, a.URL+"/webhook", groupPayload("Shared", "firing"), nil); code != 200 {
		t.Fatalf("replica a: %d %s", code, body)
	}
	var msg slackfake.Message
	waitFor(t, fake, 20*time.Second, "the message from replica a", func() bool {
		ms := fake.Messages(testChannel)
		if len(ms) == 1 {
			msg = ms[0]
		}
		return len(ms) == 1
	})

	c := &clicker{t: t, fake: fake, slackURL: slackURL, amslack: b.URL}
	if code := c.click(msg, alice, "ack", ""); code != 200 {
		t.Fatalf("click on replica b: %d", code)
	}
	waitFor(t, fake, 20*time.Second, "replica b to show the acknowledgement", func() bool {
		m, _ := fake.Message(testChannel, msg.TS)
		return strings.Contains(allText(t, m), "Acknowledged")
	})

	if code, body := postWebhook(t, b.URL+"/webhook", groupPayload("Shared", "resolved"), nil); code != 200 {
		t.Fatalf("replica b: %d %s", code, body)
	}
	waitFor(t, fake, 20*time.Second, "replica b to resolve replica a's message", func() bool {
		m, _ := fake.Message(testChannel, msg.TS)
		return strings.Contains(strings.ToLower(m.HeaderText()), "resolved")
	})
	if n := len(fake.Messages(testChannel)); n != 1 {
		t.Errorf("%d messages, want the one message updated by both replicas", n)
	}
}
