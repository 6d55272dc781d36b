package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// schedule runs n operations with at most concurrency at a time. With rate
// 0 each worker starts its next operation as soon as the last one ends (a
// closed loop); with rate > 0 operation i is due at start + i/rate whether
// or not earlier ones have finished (an open loop), and its latency counts
// from when it was due, so that a stall shows up in the latencies instead of
// quietly lowering the rate.
type schedule struct {
	n           int
	concurrency int
	rate        float64
}

// outcome is what one operation reports.
type outcome struct {
	// status is the HTTP status; 0 for a transport error, 200 for a
	// successful baseline write.
	status int
	// start is when the operation really began, after any wait for its
	// turn; latency counts from here in a closed loop.
	start time.Time
}

// run runs op for every i in [0, n) in order of i, and returns per-operation
// latencies and statuses. It stops starting operations when ctx ends; those
// never started have status -1.
func (s schedule) run(ctx context.Context, op func(ctx context.Context, i int) outcome) loadResult {
	res := loadResult{latency: make([]time.Duration, s.n), status: make([]int16, s.n)}
	for i := range res.status {
		res.status[i] = -1
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	var last atomic.Int64
	res.begin = time.Now()
	for range max(s.concurrency, 1) {
		wg.Go(func() {
			for i := range jobs {
				due := res.begin
				if s.rate > 0 {
					due = res.begin.Add(time.Duration(float64(i) / s.rate * float64(time.Second)))
				}
				o := op(ctx, i)
				end := time.Now()
				from := o.start
				if s.rate > 0 {
					from = due
				}
				res.latency[i] = end.Sub(from)
				res.status[i] = int16(o.status)
				for {
					l := last.Load()
					if int64(end.Sub(res.begin)) <= l || last.CompareAndSwap(l, int64(end.Sub(res.begin))) {
						break
					}
				}
			}
		})
	}
	var timer *time.Timer
dispatch:
	for i := range s.n {
		if s.rate > 0 {
			due := res.begin.Add(time.Duration(float64(i) / s.rate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				if timer == nil {
					timer = time.NewTimer(d)
				} else {
					timer.Reset(d)
				}
				select {
				case <-ctx.Done():
					break dispatch
				case <-timer.C:
				}
			}
		}
		select {
		case <-ctx.Done():
			break dispatch
		case jobs <- i:
		}
	}
	close(jobs)
	wg.Wait()
	if timer != nil {
		timer.Stop()
	}
	res.elapsed = time.Duration(last.Load())
	return res
}

// loadResult holds what a schedule measured.
type loadResult struct {
	latency []time.Duration
	// status per operation: the HTTP status, 0 for a transport error, -1
	// for an operation never started.
	status []int16
	begin  time.Time
	// elapsed runs from the start to the end of the last operation.
	elapsed time.Duration
}

// accepted returns the latencies of the operations that succeeded (200).
func (r loadResult) accepted() []time.Duration {
	out := make([]time.Duration, 0, len(r.latency))
	for i, st := range r.status {
		if st == http.StatusOK {
			out = append(out, r.latency[i])
		}
	}
	return out
}

// statuses counts the operations by outcome: "200", "503", "error" (no
// answer) and "not sent".
func (r loadResult) statuses() map[string]int {
	out := map[string]int{}
	for _, st := range r.status {
		switch st {
		case -1:
			out["not sent"]++
		case 0:
			out["error"]++
		default:
			out[fmt.Sprint(st)]++
		}
	}
	return out
}

// webhookClient posts notifications to amslack over loopback, keeping its
// connections alive between requests.
type webhookClient struct {
	url    string
	client *http.Client
	// sent and accepted count requests started and answered 200, for the
	// progress line.
	sent, accepted atomic.Int64
}

func newWebhookClient(baseURL string, concurrency int) *webhookClient {
	return &webhookClient{
		url: baseURL + "/webhook",
		client: &http.Client{
			Timeout: 10 * time.Second,
			Transport: &http.Transport{
				// One idle connection per worker, so that every worker
				// keeps its connection instead of dialling anew.
				MaxIdleConns:        concurrency,
				MaxIdleConnsPerHost: concurrency,
				IdleConnTimeout:     time.Minute,
				DisableCompression:  true,
			},
		},
	}
}

// post sends one notification to channel and returns the HTTP status, 0 if
// there was no answer.
func (c *webhookClient) post(ctx context.Context, channel string, body []byte) outcome {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+"?channel="+channel, bytes.NewReader(body))
	if err != nil {
		return outcome{start: time.Now()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Alertmanager/0.35.0")
	c.sent.Add(1)
	start := time.Now()
	resp, err := c.client.Do(req)
	if err != nil {
		return outcome{start: start}
	}
	// Reading the body to its end lets the connection be reused.
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		c.accepted.Add(1)
	}
	return outcome{status: resp.StatusCode, start: start}
}

func (c *webhookClient) close() { c.client.CloseIdleConnections() }

// orderGate keeps each group's notifications in order while groups are sent
// concurrently: notification j of a group starts only once j-1 has been
// answered, as Alertmanager sends a group's notifications one at a time.
type orderGate struct {
	// mu guards next.
	mu   sync.Mutex
	cond *sync.Cond
	// next is, per group, the number of the notification whose turn it is.
	next []int
}

func newOrderGate(groups int) *orderGate {
	g := &orderGate{next: make([]int, groups)}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// wait blocks until it is notification j's turn in group, or ctx ends.
// Operations are handed out in order, so the notification whose turn it is
// has always been taken by a worker that is not waiting: wait cannot
// deadlock.
func (g *orderGate) wait(ctx context.Context, group, j int) bool {
	stop := context.AfterFunc(ctx, func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.cond.Broadcast()
	})
	defer stop()
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.next[group] != j && ctx.Err() == nil {
		g.cond.Wait()
	}
	return g.next[group] == j
}

// done passes the turn in group to the next notification.
func (g *orderGate) done(group int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.next[group]++
	g.cond.Broadcast()
}

// baselineFile is the file the fsync baseline writes, in the storage
// directory so that it measures the disk amslack's database is on.
const baselineFile = "storm-fsync-baseline"

// fsyncBaseline measures the bare cost of making bytes durable: each
// operation writes one payload at the end of a file in dir and fsyncs it,
// on the same schedule as the webhooks. Nothing else happens, so the
// webhook latency over this one is what amslack adds on top of the disk.
func fsyncBaseline(ctx context.Context, dir string, s schedule, payloadOf func(i int) []byte) (loadResult, int, error) {
	path := filepath.Join(dir, baselineFile)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return loadResult{}, 0, fmt.Errorf("fsync baseline: %w", err)
	}
	defer os.Remove(path)
	defer f.Close()
	var (
		offset  atomic.Int64
		written atomic.Int64
		failed  atomic.Pointer[error]
	)
	res := s.run(ctx, func(_ context.Context, i int) outcome {
		p := payloadOf(i)
		start := time.Now()
		off := offset.Add(int64(len(p))) - int64(len(p))
		if _, err := f.WriteAt(p, off); err != nil {
			failed.CompareAndSwap(nil, &err)
			return outcome{start: start}
		}
		if err := f.Sync(); err != nil {
			failed.CompareAndSwap(nil, &err)
			return outcome{start: start}
		}
		written.Add(int64(len(p)))
		return outcome{status: http.StatusOK, start: start}
	})
	if e := failed.Load(); e != nil {
		return res, 0, fmt.Errorf("fsync baseline: %w", *e)
	}
	avg := 0
	if n := len(res.accepted()); n > 0 {
		avg = int(written.Load()) / n
	}
	return res, avg, nil
}
