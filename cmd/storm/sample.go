package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime/metrics"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// gauges are the amslack metrics the storm watches, summed over labels
// except where noted.
type gauges struct {
	// pending is amslack_outbox_pending per channel (entries waiting or in
	// flight); a channel without entries has no series.
	pending map[string]float64
	// slackOK counts the Slack calls that succeeded.
	slackOK float64
	// rateLimited counts the 429s amslack received.
	rateLimited float64
	// coalesced counts notifications merged into a pending entry.
	coalesced float64
	// enqueued counts notifications durably enqueued.
	enqueued float64
}

func (g gauges) pendingTotal() float64 {
	var n float64
	for _, v := range g.pending {
		n += v
	}
	return n
}

// readGauges gathers the metrics the storm watches from the replicas'
// registries: the counters of all of them, summed, and the outbox's depth
// from the first. With one replica that is its own outbox; with several,
// which share the outbox in Redis, every replica's amslack_outbox_pending
// reads the same depth from Redis, and summing them would count each entry
// once per replica.
func readGauges(regs []prometheus.Gatherer) (gauges, error) {
	g := gauges{pending: map[string]float64{}}
	for i, reg := range regs {
		mfs, err := reg.Gather()
		if err != nil {
			return gauges{}, fmt.Errorf("gather the metrics of replica %d: %w", i, err)
		}
		if err := g.add(mfs, i == 0); err != nil {
			return gauges{}, fmt.Errorf("replica %d: %w", i, err)
		}
	}
	return g, nil
}

// errNoDepth is returned for metrics without the outbox's depth: the Redis
// outbox leaves its depth metrics out of a scrape in which it could not
// read Redis, and an amslack_outbox_pending without series must not then
// be taken for an empty outbox.
var errNoDepth = errors.New("the outbox's depth is missing from the metrics (amslack_outbox_dead_letters has no series)")

// add adds one registry's metrics to g, and its depth if depth is set.
func (g *gauges) add(mfs []*dto.MetricFamily, depth bool) error {
	label := func(m *dto.Metric, name string) string {
		for _, l := range m.GetLabel() {
			if l.GetName() == name {
				return l.GetValue()
			}
		}
		return ""
	}
	sawDepth := false
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case "amslack_outbox_pending":
				if depth {
					g.pending[label(m, "channel")] += m.GetGauge().GetValue()
				}
			case "amslack_outbox_dead_letters":
				sawDepth = true
			case "amslack_slack_requests_total":
				if label(m, "result") == "ok" {
					g.slackOK += m.GetCounter().GetValue()
				}
			case "amslack_slack_rate_limited_total":
				g.rateLimited += m.GetCounter().GetValue()
			case "amslack_outbox_coalesced_total":
				g.coalesced += m.GetCounter().GetValue()
			case "amslack_outbox_enqueued_total":
				g.enqueued += m.GetCounter().GetValue()
			}
		}
	}
	if depth && !sawDepth {
		return errNoDepth
	}
	return nil
}

// interval is a span of time, [from, to).
type interval struct{ from, to time.Time }

// sampler watches amslack's outbox while the storm runs: it records, per
// channel, the gaps during which the channel had nothing to send (so that
// the delivered rate is judged only while a backlog exists) and tracks the
// peak heap. Each sample reads replica 0's registry only, which holds the
// whole outbox's depth; read gathers all replicas' counters.
type sampler struct {
	regs     []prometheus.Gatherer
	channels []string
	every    time.Duration

	// mu guards the fields below.
	mu sync.Mutex
	// idle holds, per channel, the closed gaps with no pending entry. A
	// gap runs from the first to the last of a run of samples that saw no
	// entry, so it lies within the true gap: the idle time subtracted from a
	// channel's busy window is never more than the true idle time, and the
	// delivered rate is never flattered.
	idle map[string][]interval
	// idleSince is, per channel, the start of the open gap; zero while the
	// channel has a backlog.
	idleSince map[string]time.Time
	// last is the time of the latest sample.
	last     time.Time
	peakHeap uint64
}

// newSampler returns a sampler of the replicas' registries, replica 0's
// first.
func newSampler(regs []prometheus.Gatherer, channels []string, every time.Duration) *sampler {
	return &sampler{
		regs: regs, channels: channels, every: every,
		idle: map[string][]interval{}, idleSince: map[string]time.Time{},
	}
}

// Run samples until ctx ends.
func (s *sampler) Run(ctx context.Context) error {
	heap := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	t := time.NewTicker(s.every)
	defer t.Stop()
	for {
		s.sample(heap)
		select {
		case <-ctx.Done():
			s.mu.Lock()
			defer s.mu.Unlock()
			for ch, since := range s.idleSince {
				if !since.IsZero() {
					s.idle[ch] = append(s.idle[ch], interval{since, s.last})
					s.idleSince[ch] = time.Time{}
				}
			}
			return nil
		case <-t.C:
		}
	}
}

func (s *sampler) sample(heap []metrics.Sample) {
	g, err := readGauges(s.regs[:1])
	now := time.Now()
	metrics.Read(heap)
	s.mu.Lock()
	defer s.mu.Unlock()
	if heap[0].Value.Kind() == metrics.KindUint64 {
		s.peakHeap = max(s.peakHeap, heap[0].Value.Uint64())
	}
	if err != nil {
		// A sample that did not see the depth tells nothing about
		// the gaps.
		return
	}
	for _, ch := range s.channels {
		since := s.idleSince[ch]
		switch busy := g.pending[ch] > 0; {
		case busy && !since.IsZero():
			s.idle[ch] = append(s.idle[ch], interval{since, s.last})
			s.idleSince[ch] = time.Time{}
		case !busy && since.IsZero():
			s.idleSince[ch] = now
		}
	}
	s.last = now
}

// read gathers fresh gauges of all replicas, outside the sampling
// schedule.
func (s *sampler) read() (gauges, error) { return readGauges(s.regs) }

// idleGaps returns channel's gaps without a backlog.
func (s *sampler) idleGaps(channel string) []interval {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.idle[channel])
}

func (s *sampler) peakHeapBytes() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peakHeap
}

// busyRate is the delivered rate of one channel while it had a backlog: the
// accepted calls after the first, over the time from the first to the last
// accepted call minus the gaps without a backlog. times must be sorted.
func busyRate(times []time.Time, idle []interval) (calls int, busy time.Duration) {
	if len(times) < 2 {
		return 0, 0
	}
	first, last := times[0], times[len(times)-1]
	busy = last.Sub(first)
	for _, iv := range idle {
		from, to := iv.from, iv.to
		if from.Before(first) {
			from = first
		}
		if to.After(last) {
			to = last
		}
		if to.After(from) {
			busy -= to.Sub(from)
		}
	}
	// The first call opens the window; the calls after it are the ones
	// the window's duration paid for.
	return len(times) - 1, busy
}

// progress prints a line every second until ctx ends, of the webhooks sent
// through wcs and amslack's metrics.
func progress(ctx context.Context, w io.Writer, phase string, s *sampler, wcs []*webhookClient, total int) {
	if w == nil {
		return
	}
	start := time.Now()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		g, err := s.read()
		if err != nil {
			fmt.Fprintf(w, "storm: %v\n", err)
			continue
		}
		var sent, accepted int64
		for _, wc := range wcs {
			sent += wc.sent.Load()
			accepted += wc.accepted.Load()
		}
		fmt.Fprintf(w, "%s %5.1fs  sent %d/%d  accepted %d  delivered %d  pending %d  429s %d\n",
			phase, time.Since(start).Seconds(), sent, total, accepted,
			int(g.slackOK), int(g.pendingTotal()), int(g.rateLimited))
	}
}

// percentile returns the p-th percentile (0–100) of sorted by the
// nearest-rank method, 0 for no values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// median returns the median of xs, 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
