package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/amslack/amslack/receiver"
	"github.com/amslack/amslack/receiver/alertgroup/storetest"
	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// TestStorm runs small storms end to end through amslack and checks that
// Slack shows every group's final state once, and that amslack kept to
// Retry-After.
func TestStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("runs amslack and a fake Slack for a few seconds")
	}
	for _, tc := range []struct {
		name                            string
		groups, channels, notifications int
		backlog                         int
		wantHeader                      string
	}{
		{name: "fire, grow, resolve", groups: 20, channels: 2, notifications: 3, backlog: 30, wantHeader: " — resolved"},
		{name: "fire once", groups: 6, channels: 3, notifications: 1, backlog: 0, wantHeader: " — 1 firing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := defaultOptions()
			o.Groups, o.Channels, o.Notifications, o.CriticalBacklog = tc.groups, tc.channels, tc.notifications, tc.backlog
			o.BaselineWrites = 20
			o.Timeout = time.Minute
			// What Slack shows per group, read independently of the
			// storm's own accounting.
			headers := map[string][]string{}
			o.afterDrain = func(f *slackfake.Server) {
				for _, ch := range channelIDs(o.Channels) {
					for _, m := range f.Messages(ch) {
						name := strings.Fields(m.HeaderText())[1]
						headers[name] = append(headers[name], ch+": "+m.HeaderText())
					}
				}
			}
			rep, err := storm(t.Context(), o)
			if err != nil {
				t.Fatal(err)
			}
			if rep.TimedOut || len(rep.Errors) > 0 {
				t.Fatalf("timed out %v, errors %q", rep.TimedOut, rep.Errors)
			}
			if rep.Delivery.Lost != 0 || rep.Delivery.Final != tc.groups {
				t.Errorf("lost %d, final %d of %d groups: %q", rep.Delivery.Lost, rep.Delivery.Final, tc.groups, rep.Delivery.LostGroups)
			}
			if rep.Slack.Violations != 0 {
				t.Errorf("Retry-After violations: %q", rep.Slack.ViolationList)
			}
			if rep.Slack.Extra != 0 {
				t.Errorf("%d Slack calls beyond what the notifications need: %+v", rep.Slack.Extra, rep.Slack)
			}
			if rep.Webhooks.Accepted != tc.groups*tc.notifications {
				t.Errorf("accepted %d webhooks, want %d: %v", rep.Webhooks.Accepted, tc.groups*tc.notifications, rep.Webhooks.Statuses)
			}
			channels := channelIDs(tc.channels)
			for g := range tc.groups {
				name := groupName(prefixStorm, g)
				want := []string{channels[g%tc.channels] + ": ✅ " + name + tc.wantHeader}
				if tc.wantHeader != " — resolved" {
					want = []string{channels[g%tc.channels] + ": 🔥 " + name + tc.wantHeader}
				}
				if diff := cmp.Diff(headers[name], want); diff != "" {
					t.Errorf("Slack's messages of %s (-got +want):\n%s", name, diff)
				}
			}
			if tc.backlog > 0 && (rep.Critical == nil || !rep.Critical.Delivered || rep.Critical.BacklogAccepted != tc.backlog) {
				t.Errorf("critical phase: %+v", rep.Critical)
			}
			if rep.Memory.PeakRSS == 0 || rep.Memory.HeapInuse == 0 {
				t.Errorf("memory not measured: %+v", rep.Memory)
			}
			var out bytes.Buffer
			if err := rep.writeText(&out); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), "lost 0") {
				t.Errorf("report does not say lost 0:\n%s", out.String())
			}
		})
	}
}

// TestStormReplicas runs a small storm through three replicas that share a
// real Redis, with most groups sent to replica 0, and checks that the
// installation loses nothing, posts each group once, keeps to Retry-After,
// that every replica took webhooks, and that the storm leaves no keys in
// Redis.
func TestStormReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three amslack replicas and a fake Slack for a few seconds")
	}
	rdb := storetest.RedisClient(t)
	o := defaultOptions()
	o.Groups, o.Channels, o.Notifications, o.CriticalBacklog = 40, 3, 3, 20
	o.Replicas, o.Redis, o.Skew = 3, storetest.RedisAddr, 0.8
	o.BaselineWrites = 20
	o.Timeout = time.Minute
	rep, err := storm(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.TimedOut || len(rep.Errors) > 0 {
		t.Fatalf("timed out %v, errors %q", rep.TimedOut, rep.Errors)
	}
	if rep.Delivery.Lost != 0 || rep.Delivery.Final != o.Groups {
		t.Errorf("lost %d, final %d of %d groups: %q", rep.Delivery.Lost, rep.Delivery.Final, o.Groups, rep.Delivery.LostGroups)
	}
	if rep.Delivery.Duplicates != 0 {
		t.Errorf("%d groups have more than one message", rep.Delivery.Duplicates)
	}
	if rep.Slack.Extra != 0 {
		t.Errorf("%d Slack calls beyond what the notifications need: %+v", rep.Slack.Extra, rep.Slack)
	}
	if rep.Slack.Violations != 0 {
		t.Errorf("Retry-After violations: %q", rep.Slack.ViolationList)
	}
	if rep.Webhooks.Accepted != o.Groups*o.Notifications {
		t.Errorf("accepted %d webhooks, want %d: %v", rep.Webhooks.Accepted, o.Groups*o.Notifications, rep.Webhooks.Statuses)
	}
	per := rep.Webhooks.AcceptedPerReplica
	if len(per) != o.Replicas {
		t.Fatalf("accepted per replica %v, want %d replicas", per, o.Replicas)
	}
	for i, n := range per {
		if n == 0 {
			t.Errorf("replica %d accepted nothing: %v", i, per)
		}
	}
	if per[0] <= per[1]+per[2] {
		t.Errorf("accepted per replica %v: replica 0 should have most with --skew 0.8", per)
	}
	if rep.Critical == nil || !rep.Critical.Delivered || rep.Critical.BacklogAccepted != o.CriticalBacklog {
		t.Errorf("critical phase: %+v", rep.Critical)
	}
	if !rep.Settings.Redis || rep.Settings.RedisKeyPrefix == "" {
		t.Fatalf("settings %+v do not show Redis", rep.Settings)
	}
	keys, err := rdb.Keys(t.Context(), rep.Settings.RedisKeyPrefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) > 0 {
		t.Errorf("the storm left %d keys in Redis, such as %q", len(keys), keys[0])
	}
	var out bytes.Buffer
	if err := rep.writeText(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "3 replicas sharing Redis") || !strings.Contains(out.String(), "per replica") {
		t.Errorf("report does not show the replicas:\n%s", out.String())
	}
}

// TestReplicaOf checks that groups are spread over the replicas in the
// proportions --skew asks for, overall and within each channel.
func TestReplicaOf(t *testing.T) {
	const groups, channels = 3000, 3
	for _, tc := range []struct {
		n    int
		skew float64
		want []float64
	}{
		{1, 0, []float64{1}},
		{3, 0, []float64{1.0 / 3, 1.0 / 3, 1.0 / 3}},
		{3, 0.8, []float64{0.8, 0.1, 0.1}},
		{4, 0.4, []float64{0.4, 0.2, 0.2, 0.2}},
		{2, 1, []float64{1, 0}},
	} {
		t.Run(fmt.Sprintf("%d replicas skew %g", tc.n, tc.skew), func(t *testing.T) {
			counts := make([][]int, channels)
			for c := range counts {
				counts[c] = make([]int, tc.n)
			}
			for g := range groups {
				r := replicaOf(g, tc.n, tc.skew)
				if r < 0 || r >= tc.n {
					t.Fatalf("group %d goes to replica %d of %d", g, r, tc.n)
				}
				counts[g%channels][r]++
			}
			for c, byReplica := range counts {
				for r, n := range byReplica {
					share := float64(n) / (groups / channels)
					if math.Abs(share-tc.want[r]) > 0.01 {
						t.Errorf("channel %d: replica %d has %.3f of the groups, want %.3f", c, r, share, tc.want[r])
					}
				}
			}
		})
	}
}

// TestReadGauges checks that counters are summed over the replicas, that
// the outbox's depth is read from the first alone, and that metrics without
// the depth are an error rather than an empty outbox.
func TestReadGauges(t *testing.T) {
	replica := func(pending float64, withDepth bool) *prometheus.Registry {
		reg := prometheus.NewRegistry()
		f := promauto.With(reg)
		if withDepth {
			f.NewGaugeVec(prometheus.GaugeOpts{Name: "amslack_outbox_pending", Help: "h"}, []string{"channel"}).WithLabelValues("C1").Set(pending)
			f.NewGauge(prometheus.GaugeOpts{Name: "amslack_outbox_dead_letters", Help: "h"})
		}
		f.NewCounterVec(prometheus.CounterOpts{Name: "amslack_outbox_coalesced_total", Help: "h"}, []string{"kind"}).WithLabelValues("notify").Add(2)
		f.NewCounterVec(prometheus.CounterOpts{Name: "amslack_slack_requests_total", Help: "h"}, []string{"result"}).WithLabelValues("ok").Add(5)
		return reg
	}
	g, err := readGauges([]prometheus.Gatherer{replica(7, true), replica(7, true), replica(7, true)})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(g.pending, map[string]float64{"C1": 7}); diff != "" {
		t.Errorf("pending (-got +want):\n%s", diff)
	}
	if g.coalesced != 6 || g.slackOK != 15 {
		t.Errorf("coalesced %g, Slack calls %g; want 6 and 15, summed over 3 replicas", g.coalesced, g.slackOK)
	}
	if _, err := readGauges([]prometheus.Gatherer{replica(0, false)}); !errors.Is(err, errNoDepth) {
		t.Errorf("metrics without the depth: got error %v, want %v", err, errNoDepth)
	}
	if _, err := readGauges([]prometheus.Gatherer{replica(1, true), replica(0, false)}); err != nil {
		t.Errorf("replicas but the first need no depth: %v", err)
	}
}

func TestStepOf(t *testing.T) {
	for _, tc := range []struct {
		k    int
		want []step
	}{
		{1, []step{{alerts: []int{0}}}},
		{2, []step{{alerts: []int{0}}, {resolved: true, alerts: []int{0}}}},
		{3, []step{{alerts: []int{0}}, {alerts: []int{0, 1}}, {resolved: true, alerts: []int{0, 1}}}},
		{5, []step{{alerts: []int{0}}, {alerts: []int{0, 1}}, {alerts: []int{0, 2}}, {alerts: []int{0, 3}}, {resolved: true, alerts: []int{0, 3}}}},
	} {
		t.Run(fmt.Sprint(tc.k), func(t *testing.T) {
			var got []step
			for j := range tc.k {
				got = append(got, stepOf(j, tc.k))
			}
			if diff := cmp.Diff(got, tc.want, cmp.AllowUnexported(step{})); diff != "" {
				t.Errorf("steps (-got +want):\n%s", diff)
			}
		})
	}
}

// TestPayload checks that every notification of a group is valid, belongs to
// the group and differs from the one before it in what Alertmanager HA
// de-duplication and amslack's change detection look at.
func TestPayload(t *testing.T) {
	const k = 6
	var prev string
	for j := range k {
		s := stepOf(j, k)
		m, err := receiver.Decode(payload(groupName(prefixStorm, 42), 42, "warning", s))
		if err != nil {
			t.Fatalf("notification %d: %v", j, err)
		}
		if m.GroupKey != `{}:{alertname="Storm000042"}` || m.Receiver != stormReceiver || m.GroupLabels["alertname"] != "Storm000042" {
			t.Errorf("notification %d: group key %q, receiver %q, group labels %v", j, m.GroupKey, m.Receiver, m.GroupLabels)
		}
		var ids []string
		firing := 0
		for _, a := range m.Alerts {
			ids = append(ids, a.Fingerprint+":"+a.Status)
			if a.Status == "firing" {
				firing++
			}
		}
		slices.Sort(ids)
		id := m.Status + " " + strings.Join(ids, ",")
		if id == prev {
			t.Errorf("notification %d repeats the one before: %s", j, id)
		}
		prev = id
		if firing != s.firing() || (m.Status == "resolved") != s.resolved {
			t.Errorf("notification %d: status %s with %d firing, want %+v", j, m.Status, firing, s)
		}
	}
}

// TestExpectedShows checks which notifications of a group count as final:
// the last accepted one, or a later one sent without a 200.
func TestExpectedShows(t *testing.T) {
	const k = 3
	for _, tc := range []struct {
		name      string
		e         expected
		header    string
		ok, later bool
	}{
		{"last accepted", expected{accepted: 1, sent: 1}, "🔥 Storm000001 — 2 firing", true, false},
		{"earlier", expected{accepted: 1, sent: 1}, "🔥 Storm000001 — 1 firing", false, false},
		{"later, not sent", expected{accepted: 1, sent: 1}, "✅ Storm000001 — resolved", false, false},
		{"later, sent without a 200", expected{accepted: 1, sent: 2}, "✅ Storm000001 — resolved", true, true},
		{"none accepted", expected{accepted: -1, sent: 2}, "✅ Storm000001 — resolved", false, false},
		{"nothing in Slack", expected{accepted: 0, sent: 2}, "", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, later := tc.e.shows(tc.header, k)
			if ok != tc.ok || later != tc.later {
				t.Errorf("%+v.shows(%q) = %v, %v; want %v, %v", tc.e, tc.header, ok, later, tc.ok, tc.later)
			}
		})
	}
}

func TestHeaderMatches(t *testing.T) {
	for _, tc := range []struct {
		header string
		s      step
		want   bool
	}{
		{"✅ Storm000001 — resolved", step{resolved: true, alerts: []int{0, 1}}, true},
		{"🔥 Storm000001 — 2 firing", step{resolved: true, alerts: []int{0, 1}}, false},
		{"🔥 Storm000001 — 2 firing", step{alerts: []int{0, 1}}, true},
		{"🔥 Storm000001 — 1 firing", step{alerts: []int{0, 1}}, false},
		{"🔥 Storm000001 — 12 firing", step{alerts: []int{0, 1}}, false},
		{"", step{alerts: []int{0}}, false},
	} {
		if got := tc.s.headerMatches(tc.header); got != tc.want {
			t.Errorf("%+v.headerMatches(%q) = %v, want %v", tc.s, tc.header, got, tc.want)
		}
	}
}

func TestParseGroupName(t *testing.T) {
	for _, tc := range []struct {
		header, prefix string
		want           int
		ok             bool
	}{
		{"🔥 Storm000042 — 2 firing", prefixStorm, 42, true},
		{"✅ Storm999999 — resolved", prefixStorm, 999999, true},
		{"🔥 Critical000000 — 1 firing", prefixCritical, 0, true},
		{"🔥 Critical000000 — 1 firing", prefixStorm, 0, false},
		{"🔥 Storm42 — 1 firing", prefixStorm, 0, false},
		{"🔥 Storm-00042 — 1 firing", prefixStorm, 0, false},
		{"", prefixStorm, 0, false},
	} {
		got, ok := parseGroupName(tc.header, tc.prefix)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseGroupName(%q, %q) = %d, %v; want %d, %v", tc.header, tc.prefix, got, ok, tc.want, tc.ok)
		}
	}
}

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var out []time.Duration
		for _, n := range ns {
			out = append(out, time.Duration(n)*time.Millisecond)
		}
		return out
	}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	for _, tc := range []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 99, 0},
		{"one", ms(7), 50, 7 * time.Millisecond},
		{"median of four", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p99 of 100", hundred, 99, 99 * time.Millisecond},
		{"p50 of 100", hundred, 50, 50 * time.Millisecond},
		{"max", hundred, 100, 100 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.sorted, tc.p); got != tc.want {
				t.Errorf("percentile(%v) = %v, want %v", tc.p, got, tc.want)
			}
		})
	}
}

func TestBusyRate(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 14, 0, 0, 0, time.UTC)
	at := func(ms ...int) []time.Time {
		var out []time.Time
		for _, m := range ms {
			out = append(out, t0.Add(time.Duration(m)*time.Millisecond))
		}
		return out
	}
	gap := func(from, to int) interval {
		return interval{t0.Add(time.Duration(from) * time.Millisecond), t0.Add(time.Duration(to) * time.Millisecond)}
	}
	for _, tc := range []struct {
		name      string
		times     []time.Time
		idle      []interval
		wantCalls int
		wantBusy  time.Duration
	}{
		{"none", nil, nil, 0, 0},
		{"one call has no window", at(5), nil, 0, 0},
		{"steady", at(0, 50, 100, 150), nil, 3, 150 * time.Millisecond},
		{"gap inside is not busy", at(0, 50, 1050, 1100), []interval{gap(60, 1040)}, 3, 120 * time.Millisecond},
		{"gaps outside the window do not count", at(100, 150), []interval{gap(0, 90), gap(160, 900)}, 1, 50 * time.Millisecond},
		{"gap overlapping the start is clipped", at(100, 200), []interval{gap(0, 120)}, 1, 80 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls, busy := busyRate(tc.times, tc.idle)
			if calls != tc.wantCalls || busy != tc.wantBusy {
				t.Errorf("busyRate = %d calls in %v, want %d in %v", calls, busy, tc.wantCalls, tc.wantBusy)
			}
		})
	}
}

// TestSamplerIdleGaps checks that the sampler records a channel's gaps
// without a backlog from the first to the last sample that saw none.
func TestSamplerIdleGaps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		pending := promauto.With(reg).NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "amslack", Subsystem: "outbox", Name: "pending", Help: "as amslack's outbox has it",
		}, []string{"channel"})
		promauto.With(reg).NewGauge(prometheus.GaugeOpts{
			Namespace: "amslack", Subsystem: "outbox", Name: "dead_letters", Help: "as amslack's outbox has it",
		})
		smp := newSampler([]prometheus.Gatherer{reg}, []string{"C1", "C2"}, 10*time.Millisecond)
		ctx, cancel := context.WithCancel(t.Context())
		start := time.Now()
		done := make(chan struct{})
		go func() {
			defer close(done)
			smp.Run(ctx)
		}()
		pending.WithLabelValues("C2").Set(1)
		time.Sleep(25 * time.Millisecond)
		pending.WithLabelValues("C1").Set(3)
		time.Sleep(50 * time.Millisecond)
		pending.DeleteLabelValues("C1")
		time.Sleep(30 * time.Millisecond)
		cancel()
		<-done

		rel := func(ivs []interval) [][2]time.Duration {
			var out [][2]time.Duration
			for _, iv := range ivs {
				out = append(out, [2]time.Duration{iv.from.Sub(start), iv.to.Sub(start)})
			}
			return out
		}
		want := [][2]time.Duration{{0, 20 * time.Millisecond}, {80 * time.Millisecond, 100 * time.Millisecond}}
		if diff := cmp.Diff(rel(smp.idleGaps("C1")), want); diff != "" {
			t.Errorf("C1's idle gaps (-got +want):\n%s", diff)
		}
		if got := smp.idleGaps("C2"); len(got) != 0 {
			t.Errorf("C2 always had a backlog, got idle gaps %v", rel(got))
		}
	})
}

// TestSchedule checks the latencies of the closed and the open loop: the
// open loop counts a late start against the operation, the closed loop does
// not.
func TestSchedule(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    schedule
		want []time.Duration
	}{
		{"closed loop", schedule{n: 3, concurrency: 1}, []time.Duration{1, 30, 1}},
		{"open loop", schedule{n: 3, concurrency: 1, rate: 100}, []time.Duration{1, 30, 21}},
		{"open loop with room", schedule{n: 3, concurrency: 2, rate: 100}, []time.Duration{1, 30, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				took := []time.Duration{1, 30, 1}
				res := tc.s.run(t.Context(), func(_ context.Context, i int) outcome {
					start := time.Now()
					time.Sleep(took[i] * time.Millisecond)
					return outcome{status: 200, start: start}
				})
				var want []time.Duration
				for _, w := range tc.want {
					want = append(want, w*time.Millisecond)
				}
				if diff := cmp.Diff(res.latency, want); diff != "" {
					t.Errorf("latencies (-got +want):\n%s", diff)
				}
				if diff := cmp.Diff(res.statuses(), map[string]int{"200": 3}); diff != "" {
					t.Errorf("statuses (-got +want):\n%s", diff)
				}
			})
		})
	}
}

// TestOrderGate checks that each group's notifications start in order and
// one at a time, however the workers interleave.
func TestOrderGate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const groups, k = 3, 5
		gate := newOrderGate(groups)
		var mu sync.Mutex
		got := map[int][]int{}
		busy := map[int]bool{}
		schedule{n: groups * k, concurrency: 8}.run(t.Context(), func(ctx context.Context, i int) outcome {
			g, j := i%groups, i/groups
			if !gate.wait(ctx, g, j) {
				t.Errorf("wait for %d/%d failed", g, j)
				return outcome{}
			}
			defer gate.done(g)
			mu.Lock()
			if busy[g] {
				t.Errorf("group %d has two notifications in flight", g)
			}
			busy[g] = true
			got[g] = append(got[g], j)
			mu.Unlock()
			// Uneven service times shuffle the workers.
			time.Sleep(time.Duration((i*7)%5) * time.Millisecond)
			mu.Lock()
			busy[g] = false
			mu.Unlock()
			return outcome{status: 200}
		})
		want := map[int][]int{0: {0, 1, 2, 3, 4}, 1: {0, 1, 2, 3, 4}, 2: {0, 1, 2, 3, 4}}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("order per group (-got +want):\n%s", diff)
		}
	})
}

func TestParseVmHWM(t *testing.T) {
	real, err := os.ReadFile("testdata/proc-self-status.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, status string
		want         uint64
		wantErr      bool
	}{
		{"captured", string(real), 1692 * 1024, false},
		{"tabs and spaces", "Name:\tx\nVmHWM:\t  123 kB\n", 123 * 1024, false},
		{"missing", "Name:\tx\nVmRSS:\t1 kB\n", 0, true},
		{"not kB", "VmHWM:\t123 MB\n", 0, true},
		{"not a number", "VmHWM:\t12x kB\n", 0, true},
		{"overflow", "VmHWM:\t99999999999999999999999 kB\n", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseVmHWM(tc.status)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("parseVmHWM = %d, %v; want %d, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

// FuzzParseVmHWM checks that any status file either parses to a size or
// fails cleanly.
func FuzzParseVmHWM(f *testing.F) {
	real, err := os.ReadFile("testdata/proc-self-status.txt")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(real))
	f.Add("VmHWM:\t0 kB\n")
	f.Add("VmHWM:")
	f.Fuzz(func(t *testing.T, status string) {
		got, err := parseVmHWM(status)
		if err != nil && got != 0 {
			t.Errorf("parseVmHWM = %d with error %v", got, err)
		}
		if err == nil && !strings.Contains(status, "VmHWM:") {
			t.Errorf("parsed %d from a status without VmHWM", got)
		}
	})
}

func TestRunFlags(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"unknown flag", []string{"--bogus"}, 2, "flag provided but not defined"},
		{"argument", []string{"now"}, 2, "unexpected arguments"},
		{"no groups", []string{"--groups", "0"}, 1, "--groups must be positive"},
		{"negative rate", []string{"--rate", "-1"}, 1, "--rate must not be negative"},
		{"bad log level", []string{"--log-level", "loud"}, 2, "--log-level"},
		{"replicas without Redis", []string{"--replicas", "3"}, 1, "--replicas 3 needs --redis"},
		{"Redis without port", []string{"--redis", "localhost"}, 1, "want host:port"},
		{"skew above 1", []string{"--replicas", "2", "--redis", "127.0.0.1:1", "--skew", "1.5"}, 1, "--skew must be from 0 to 1"},
		{"skew of one replica", []string{"--redis", "127.0.0.1:1", "--skew", "0.5"}, 1, "--skew needs --replicas above 1"},
		{"no replicas", []string{"--replicas", "0"}, 1, "--replicas must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tc.args, &stdout, &stderr); code != tc.wantCode {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tc.wantCode, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tc.wantStderr)
			}
		})
	}
}

// TestStorageMustBeEmpty checks that a storage directory holding a database
// is refused: its pending entries would be counted against the storm.
func TestStorageMustBeEmpty(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/amslack.db", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	o := defaultOptions()
	o.Storage = dir
	if _, err := storm(t.Context(), o); err == nil || !strings.Contains(err.Error(), "already holds a database") {
		t.Errorf("storm with a used storage: %v", err)
	}
}
