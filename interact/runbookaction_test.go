package interact

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/model"

	"github.com/amslack/amslack/interact/runbook"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestCallerBackoff pins the retry schedule on synctest's fake clock:
// retries after 1s and 2s, a fresh signature and the same key each time,
// and no retry of a 4xx.
func TestCallerBackoff(t *testing.T) {
	type step struct {
		status int
		err    error
		hang   bool // wait for the attempt's timeout
	}
	tests := []struct {
		name      string
		steps     []step
		wantAt    []time.Duration
		wantErr   bool
		wantReply runbook.Response
	}{
		{
			name:      "success at once",
			steps:     []step{{status: 200}},
			wantAt:    []time.Duration{0},
			wantReply: runbook.Response{OK: true, Detail: "done"},
		},
		{
			name:      "5xx, transport error, success",
			steps:     []step{{status: 503}, {err: errors.New("connection refused")}, {status: 200}},
			wantAt:    []time.Duration{0, time.Second, 3 * time.Second},
			wantReply: runbook.Response{OK: true, Detail: "done"},
		},
		{
			name:    "timeouts",
			steps:   []step{{hang: true}, {hang: true}, {hang: true}},
			wantAt:  []time.Duration{0, 11 * time.Second, 23 * time.Second},
			wantErr: true,
		},
		{
			name:    "4xx is final",
			steps:   []step{{status: 403}, {status: 200}},
			wantAt:  []time.Duration{0},
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				var (
					mu    sync.Mutex
					at    []time.Duration
					keys  = map[string]bool{}
					stamp = map[string]bool{}
				)
				rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
					body, _ := io.ReadAll(r.Body)
					if err := runbook.Verify([]byte("s"), r.Header, body, time.Now(), runbook.DefaultWindow); err != nil {
						t.Errorf("attempt not verifiable: %v", err)
					}
					mu.Lock()
					n := len(at)
					at = append(at, time.Since(start))
					keys[r.Header.Get(runbook.HeaderIdempotencyKey)] = true
					stamp[r.Header.Get(runbook.HeaderTimestamp)] = true
					mu.Unlock()
					s := tt.steps[n]
					switch {
					case s.hang:
						<-r.Context().Done()
						return nil, r.Context().Err()
					case s.err != nil:
						return nil, s.err
					}
					return &http.Response{
						StatusCode: s.status,
						Body:       io.NopCloser(strings.NewReader(`{"ok":true,"detail":"done"}`)),
						Header:     http.Header{},
					}, nil
				})
				cl := caller{hc: &http.Client{Transport: rt}, now: time.Now, backoff: runbookBackoff}
				a := &Action{ID: "restart", URL: "http://actions.internal/restart", Secret: "s", Timeout: model.Duration(10 * time.Second)}
				got, err := cl.call(context.Background(), a, "key-1", runbook.Request{Action: "restart", IdempotencyKey: "key-1"})
				if (err != nil) != tt.wantErr {
					t.Errorf("call() error = %v, want error %v", err, tt.wantErr)
				}
				if diff := cmp.Diff(got, tt.wantReply); diff != "" {
					t.Errorf("call() (-got +want):\n%s", diff)
				}
				if diff := cmp.Diff(at, tt.wantAt); diff != "" {
					t.Errorf("attempt times (-got +want):\n%s", diff)
				}
				if len(keys) != 1 {
					t.Errorf("idempotency keys used: %v, want one", keys)
				}
				if len(at) > 1 && len(stamp) != len(at) {
					t.Errorf("timestamps %v: each attempt must be signed afresh", stamp)
				}
			})
		})
	}
}

func TestCallerHidesURL(t *testing.T) {
	rt := roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("no route to host") })
	cl := caller{hc: &http.Client{Transport: rt}, now: time.Now, backoff: time.Microsecond}
	a := &Action{ID: "restart", URL: "https://actions.internal/restart?token=hunter2", Secret: "s", Timeout: model.Duration(time.Second)}
	_, err := cl.call(t.Context(), a, "k", runbook.Request{})
	if err == nil || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "actions.internal") {
		t.Errorf("call() error = %v, want one that does not name the URL", err)
	}
}
