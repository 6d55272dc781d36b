package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amslack/amslack/interact/runbook"
)

var secret = []byte("example-secret")

func call(t *testing.T, url string, ts time.Time, key string, mutate func(h http.Header, body []byte) []byte) (*http.Response, runbook.Response) {
	t.Helper()
	body, err := json.Marshal(runbook.Request{Action: "approve_restart", IdempotencyKey: key, User: runbook.User{ID: "U1", Name: "alice"}})
	if err != nil {
		t.Fatal(err)
	}
	sts := strconv.FormatInt(ts.Unix(), 10)
	h := http.Header{}
	h.Set(runbook.HeaderIdempotencyKey, key)
	h.Set(runbook.HeaderTimestamp, sts)
	h.Set(runbook.HeaderSignature, runbook.Sign(secret, sts, body))
	if mutate != nil {
		body = mutate(h, body)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out runbook.Response
	_ = json.Unmarshal(data, &out)
	return resp, out
}

func newTestServer(t *testing.T, now time.Time) (*httptest.Server, *atomic.Int32) {
	s := newServer(secret, runbook.DefaultWindow, func() time.Time { return now }, slog.New(slog.DiscardHandler))
	runs := &atomic.Int32{}
	inner := s.schedule
	s.schedule = func(r runbook.Request) runbook.Response {
		runs.Add(1)
		return inner(r)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv, runs
}

func TestServer(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name     string
		ts       time.Time
		key      string
		mutate   func(h http.Header, body []byte) []byte
		wantCode int
		wantRuns int32
	}{
		{name: "signed", ts: now, key: "k1", wantCode: 200, wantRuns: 1},
		{name: "stale", ts: now.Add(-6 * time.Minute), key: "k1", wantCode: 401},
		{name: "future", ts: now.Add(6 * time.Minute), key: "k1", wantCode: 401},
		{name: "tampered", ts: now, key: "k1", wantCode: 401, mutate: func(_ http.Header, b []byte) []byte {
			return bytes.Replace(b, []byte("alice"), []byte("mallory"), 1)
		}},
		{name: "unsigned", ts: now, key: "k1", wantCode: 401, mutate: func(h http.Header, b []byte) []byte {
			h.Del(runbook.HeaderSignature)
			return b
		}},
		{name: "no key", ts: now, key: "k1", wantCode: 400, mutate: func(h http.Header, b []byte) []byte {
			h.Del(runbook.HeaderIdempotencyKey)
			return b
		}},
		{name: "key differs from body", ts: now, key: "k1", wantCode: 400, mutate: func(h http.Header, b []byte) []byte {
			h.Set(runbook.HeaderIdempotencyKey, "k2")
			return b
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, runs := newTestServer(t, now)
			resp, out := call(t, srv.URL, tt.ts, tt.key, tt.mutate)
			if resp.StatusCode != tt.wantCode {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantCode)
			}
			if got := runs.Load(); got != tt.wantRuns {
				t.Errorf("runs = %d, want %d", got, tt.wantRuns)
			}
			if tt.wantCode == 200 {
				if diff := cmp.Diff(out, runbook.Response{OK: true, Detail: "restart scheduled"}); diff != "" {
					t.Errorf("answer (-got +want):\n%s", diff)
				}
			}
		})
	}
}

func TestRepeatedKeyRunsOnce(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	srv, runs := newTestServer(t, now)
	var wg sync.WaitGroup
	answers := make([]runbook.Response, 20)
	for i := range answers {
		wg.Go(func() {
			// Retries are signed afresh, so timestamps differ.
			resp, out := call(t, srv.URL, now.Add(time.Duration(i)*time.Second), "same-key", nil)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status = %d, want 200", resp.StatusCode)
			}
			answers[i] = out
		})
	}
	wg.Wait()
	if got := runs.Load(); got != 1 {
		t.Errorf("runs = %d, want 1", got)
	}
	for i, a := range answers {
		if diff := cmp.Diff(a, runbook.Response{OK: true, Detail: "restart scheduled"}); diff != "" {
			t.Errorf("answer %d (-got +want):\n%s", i, diff)
		}
	}
	call(t, srv.URL, now, "other-key", nil)
	if runs.Load() != 2 {
		t.Errorf("a new key did not run: runs = %d, want 2", runs.Load())
	}
}
