package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// TestDeadLetterListPages pages through a running amslack's dead letters
// one at a time, as `amslack dlq list` does a thousand at a time: every
// dead letter comes once, in ID order, and the admin API refuses a page it
// cannot serve.
func TestDeadLetterListPages(t *testing.T) {
	fake, slackURL := fakeSlack(t, slackfake.Options{})
	cfg := fmt.Sprintf("slack: {api_url: %s/api/, bot_token: xoxb-x}\nroutes: [{channel: C0DLQPAGE1}]\n", slackURL)
	p := startAmslack(t, cfg, "")
	const dead = 3
	fake.FailNext("chat.postMessage", dead, 200, "not_in_channel")
	for i := range dead {
		postWebhook(t, p.URL+"/webhook", groupPayload(fmt.Sprintf("Paged%d", i), "firing"), nil)
	}
	base := p.URL + "/api/v1/dlq"
	var urls []string
	send := func(method, url string) ([]byte, int) {
		urls = append(urls, strings.TrimPrefix(url, base))
		code, body := get(t, url, nil)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", url, code, body)
		}
		return []byte(body), 0
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		urls = nil
		got, code := listDead(send, base, 1, io.Discard)
		if code != 0 {
			t.Fatalf("listDead = exit code %d", code)
		}
		if len(got) == dead {
			var ids []uint64
			for _, d := range got {
				ids = append(ids, d.ID)
			}
			for i := 1; i < len(ids); i++ {
				if ids[i] <= ids[i-1] {
					t.Errorf("dead letters out of ID order: %v", ids)
				}
			}
			want := []string{"?after=0&limit=1", fmt.Sprintf("?after=%d&limit=1", ids[0]), fmt.Sprintf("?after=%d&limit=1", ids[1]), fmt.Sprintf("?after=%d&limit=1", ids[2])}
			if diff := cmp.Diff(urls, want); diff != "" {
				t.Errorf("requests (-got +want):\n%s", diff)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d dead letters, want %d", len(got), dead)
		}
		time.Sleep(50 * time.Millisecond)
	}

	for _, q := range []string{"?limit=0", "?limit=1001", "?limit=ten", "?after=-1"} {
		if code, body := get(t, base+q, nil); code != http.StatusBadRequest {
			t.Errorf("GET /api/v1/dlq%s = %d %s, want 400", q, code, body)
		}
	}
}
