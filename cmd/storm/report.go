package main

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// report is what a storm measured; it is printed as a table or as JSON.
type report struct {
	Settings settings        `json:"settings"`
	Webhooks webhookReport   `json:"webhooks"`
	Baseline baselineReport  `json:"fsync_baseline"`
	Slack    slackReport     `json:"slack"`
	Rate     rateReport      `json:"delivered_rate"`
	Critical *criticalReport `json:"critical,omitempty"`
	Delivery deliveryReport  `json:"delivery"`
	Memory   memoryReport    `json:"memory"`
	Targets  []target        `json:"targets"`
	// TimedOut is set when --timeout ended the storm.
	TimedOut bool     `json:"timed_out"`
	Errors   []string `json:"errors,omitempty"`
}

// settings echo the options a report was made with.
type settings struct {
	Groups             int     `json:"groups"`
	Channels           int     `json:"channels"`
	Notifications      int     `json:"notifications_per_group"`
	Rate               float64 `json:"rate"`
	Concurrency        int     `json:"concurrency"`
	ChannelRate        float64 `json:"channel_rate"`
	ChannelBurst       int     `json:"channel_burst"`
	UpdatePerMinute    int     `json:"update_per_minute"`
	WorkspacePerMinute int     `json:"workspace_per_minute"`
	RetryAfterSeconds  float64 `json:"retry_after_seconds"`
	LatencyMS          float64 `json:"slack_latency_ms"`
	CriticalBacklog    int     `json:"critical_backlog"`
	CriticalChannels   int     `json:"critical_channels"`
	TimeoutSeconds     float64 `json:"timeout_seconds"`
	Replicas           int     `json:"replicas"`
	// Redis is set when the replicas share their outbox, group state and
	// rate limits in Redis, under RedisKeyPrefix.
	Redis          bool    `json:"redis"`
	RedisKeyPrefix string  `json:"redis_key_prefix,omitempty"`
	Skew           float64 `json:"skew"`
}

func settingsOf(o options) settings {
	return settings{
		Groups: o.Groups, Channels: o.Channels, Notifications: o.Notifications, Rate: o.Rate,
		Concurrency: o.Concurrency, ChannelRate: o.ChannelRate, ChannelBurst: o.ChannelBurst,
		UpdatePerMinute: o.UpdatePerMinute, WorkspacePerMinute: o.WorkspacePerMinute,
		RetryAfterSeconds: o.RetryAfter.Seconds(), LatencyMS: ms(o.Latency),
		CriticalBacklog: o.CriticalBacklog, CriticalChannels: o.CriticalChannels, TimeoutSeconds: o.Timeout.Seconds(),
		Replicas: o.Replicas, Redis: o.Redis != "", Skew: o.Skew,
	}
}

// latency is a latency distribution in milliseconds.
type latency struct {
	P50 float64 `json:"p50_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

func latencyOf(ds []time.Duration) latency {
	s := slices.Sorted(slices.Values(ds))
	return latency{P50: ms(percentile(s, 50)), P99: ms(percentile(s, 99)), Max: ms(percentile(s, 100))}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

type webhookReport struct {
	Sent     int `json:"sent"`
	Accepted int `json:"accepted"`
	// Statuses counts the answers by HTTP status, "error" for none.
	Statuses          map[string]int `json:"statuses"`
	Seconds           float64        `json:"seconds"`
	AcceptedPerSecond float64        `json:"accepted_per_second"`
	// Latency is of the accepted webhooks, from the request's start
	// (closed loop) or from its scheduled time (--rate > 0).
	Latency     latency `json:"latency"`
	LatencyFrom string  `json:"latency_from"`
	// AcceptedPerReplica counts the accepted webhooks by the replica they
	// went to, replica 0 first.
	AcceptedPerReplica []int `json:"accepted_per_replica"`
}

func webhookReportOf(r loadResult, openLoop bool) webhookReport {
	acc := r.accepted()
	w := webhookReport{
		Accepted: len(acc), Statuses: r.statuses(), Seconds: r.elapsed.Seconds(),
		Latency: latencyOf(acc), LatencyFrom: "request start",
	}
	for _, st := range r.status {
		if st != -1 {
			w.Sent++
		}
	}
	if openLoop {
		w.LatencyFrom = "scheduled time"
	}
	if r.elapsed > 0 {
		w.AcceptedPerSecond = float64(len(acc)) / r.elapsed.Seconds()
	}
	return w
}

// acceptedPerReplica counts the storm's accepted webhooks by the replica
// their group went to.
func acceptedPerReplica(r loadResult, o options) []int {
	out := make([]int, o.Replicas)
	for i, st := range r.status {
		if st == http.StatusOK {
			out[replicaOf(i%o.Groups, o.Replicas, o.Skew)]++
		}
	}
	return out
}

type baselineReport struct {
	Writes       int     `json:"writes"`
	PayloadBytes int     `json:"payload_bytes"`
	Latency      latency `json:"latency"`
	// Ratio is the webhooks' p99 over the baseline's.
	Ratio float64 `json:"p99_ratio"`
}

func baselineReportOf(r loadResult, payloadBytes int) baselineReport {
	acc := r.accepted()
	return baselineReport{Writes: len(acc), PayloadBytes: payloadBytes, Latency: latencyOf(acc)}
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

type slackReport struct {
	// Accepted calls by kind: top-level chat.postMessage, chat.update,
	// and thread replies (chat.postMessage with thread_ts).
	PostMessage int `json:"post_message"`
	Update      int `json:"update"`
	Replies     int `json:"replies"`
	Total       int `json:"total"`
	// Minimum is one post per group, had every change coalesced.
	Minimum int `json:"minimum"`
	// WithoutCoalescing is a post per group and an update and a thread
	// reply per later notification.
	WithoutCoalescing int     `json:"without_coalescing"`
	SavedPercent      float64 `json:"coalescing_saved_percent"`
	// Coalesced counts notifications merged into a pending entry.
	Coalesced int `json:"notifications_coalesced"`
	// PerNotification is Total over the accepted notifications.
	PerNotification float64 `json:"calls_per_notification"`
	// Extra counts the calls beyond a post per group and an update and a
	// thread reply per accepted notification that was not coalesced: work
	// done twice, as by two replicas delivering one entry, or an entry sent
	// again because its settling in the outbox failed. A notification
	// answered other than 200 that amslack recorded anyway adds two.
	// Negative when calls are missing.
	Extra int `json:"extra_calls"`
	// RateLimited counts the 429s the fake Slack answered; amslack's own
	// count is AmslackRateLimited.
	RateLimited        int `json:"rate_limited_429"`
	AmslackRateLimited int `json:"amslack_counted_429"`
	// OtherErrors counts other failed calls.
	OtherErrors   int      `json:"other_errors"`
	Violations    int      `json:"retry_after_violations"`
	ViolationList []string `json:"violation_list,omitempty"`
	// Connections counts the connections amslack opened to Slack.
	Connections int `json:"connections"`
}

// callOK reports whether Slack accepted a request.
func callOK(r slackfake.Request) bool { return r.Status == http.StatusOK && r.Error == "" }

func slackReportOf(reqs []slackfake.Request, vs []slackfake.Violation, g gauges, groups, notifications, groupsAccepted int) slackReport {
	s := slackReport{
		Minimum: groupsAccepted, Coalesced: int(g.coalesced), AmslackRateLimited: int(g.rateLimited),
		Violations: len(vs), ViolationList: violationsText(vs),
	}
	for _, r := range reqs {
		switch {
		case r.Status == http.StatusTooManyRequests:
			s.RateLimited++
		case !callOK(r):
			s.OtherErrors++
		case r.Method == "chat.postMessage" && r.ThreadTS != "":
			s.Replies++
		case r.Method == "chat.postMessage":
			s.PostMessage++
		case r.Method == "chat.update":
			s.Update++
		}
	}
	s.Total = s.PostMessage + s.Update + s.Replies
	s.WithoutCoalescing = groupsAccepted + 2*(notifications-groupsAccepted)
	if s.WithoutCoalescing > 0 {
		s.SavedPercent = 100 * (1 - float64(s.Total)/float64(s.WithoutCoalescing))
	}
	if notifications > 0 {
		s.PerNotification = float64(s.Total) / float64(notifications)
	}
	s.Extra = s.Total - (s.WithoutCoalescing - 2*s.Coalesced)
	return s
}

type rateReport struct {
	ChannelRate   float64       `json:"channel_rate"`
	PerChannel    []channelRate `json:"per_channel"`
	MinPercent    float64       `json:"min_percent"`
	MedianPercent float64       `json:"median_percent"`
}

type channelRate struct {
	Channel string `json:"channel"`
	// Calls are the accepted calls after the channel's first, in the busy
	// window; BusySeconds is the window less the gaps without a backlog.
	Calls       int     `json:"calls"`
	BusySeconds float64 `json:"busy_seconds"`
	Percent     float64 `json:"percent"`
}

func rateReportOf(reqs []slackfake.Request, channels []string, smp *sampler, rate float64) rateReport {
	times := map[string][]time.Time{}
	for _, r := range reqs {
		if callOK(r) && (r.Method == "chat.postMessage" || r.Method == "chat.update") {
			times[r.Channel] = append(times[r.Channel], r.Time)
		}
	}
	rr := rateReport{ChannelRate: rate}
	var pcts []float64
	for _, ch := range channels {
		calls, busy := busyRate(sortedTimes(times[ch]), smp.idleGaps(ch))
		c := channelRate{Channel: ch, Calls: calls, BusySeconds: busy.Seconds()}
		if busy > 0 {
			c.Percent = 100 * float64(calls) / (busy.Seconds() * rate)
			pcts = append(pcts, c.Percent)
		}
		rr.PerChannel = append(rr.PerChannel, c)
	}
	if len(pcts) > 0 {
		rr.MinPercent = slices.Min(pcts)
		rr.MedianPercent = median(pcts)
	}
	return rr
}

type criticalReport struct {
	Channel string `json:"channel"`
	Backlog int    `json:"backlog"`
	// BacklogChannels is the number of channels the backlog was spread
	// over; 0 when it shared the critical alert's channel.
	BacklogChannels int     `json:"backlog_channels,omitempty"`
	BacklogAccepted int     `json:"backlog_accepted"`
	BacklogSeconds  float64 `json:"backlog_seconds"`
	Delivered       bool    `json:"delivered"`
	// TimeMS runs from the critical webhook's 200 to the fake Slack
	// receiving its chat.postMessage; Slots is that time in send slots of
	// SlotOf: the channel's, or with the backlog in other channels the
	// workspace's.
	TimeMS float64 `json:"time_ms"`
	Slots  float64 `json:"slots"`
	SlotOf string  `json:"slot_of"`
	// CallsBefore counts the calls that Slack accepted in that time: to
	// the channel, or to any channel with the backlog in others.
	CallsBefore int `json:"calls_before"`
	// RateLimited counts the 429s of the phase until the critical post:
	// after one, amslack pauses chat.postMessage for the Retry-After.
	RateLimited int `json:"rate_limited_429"`
}

type deliveryReport struct {
	Groups int `json:"groups"`
	// Accepted counts groups with at least one accepted notification;
	// Final those whose last one Slack shows.
	Accepted int `json:"groups_accepted"`
	Final    int `json:"groups_final"`
	// Unaccepted counts the final groups that show a notification sent
	// after their last accepted one and not answered 200.
	Unaccepted int      `json:"groups_showing_unaccepted"`
	Lost       int      `json:"lost"`
	Duplicates int      `json:"duplicates"`
	LostGroups []string `json:"lost_groups,omitempty"`
	// DrainSeconds runs from the last webhook to Slack showing every
	// group's final state; StormSeconds from the first webhook.
	DrainSeconds float64 `json:"drain_seconds"`
	StormSeconds float64 `json:"storm_seconds"`
}

type memoryReport struct {
	PeakRSS uint64 `json:"peak_rss_bytes"`
	// HeapInuse and HeapAlloc are after the storm and a GC, without the
	// fake Slack's records; HeapInuseWithFake with them.
	HeapInuse         uint64 `json:"heap_inuse_after_gc_bytes"`
	HeapAlloc         uint64 `json:"heap_live_after_gc_bytes"`
	HeapInuseWithFake uint64 `json:"heap_inuse_with_fake_records_bytes"`
	PeakHeapSampled   uint64 `json:"peak_heap_sampled_bytes"`
	GroupsTracked     int    `json:"groups_tracked"`
	PendingAfterStorm int    `json:"pending_after_storm"`
}

// target is a goal the storm checks.
type target struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	Want  string  `json:"want"`
	Met   bool    `json:"met"`
}

func targetsOf(r *report, o options) []target {
	ts := []target{
		{Name: "webhook p99 / fsync p99", Value: r.Baseline.Ratio, Unit: "×", Want: "≤ 3", Met: r.Baseline.Ratio <= 3},
	}
	if o.Rate > 0 {
		ts = append(ts, target{Name: fmt.Sprintf("webhook p99 at %g/s", o.Rate), Value: r.Webhooks.Latency.P99, Unit: "ms", Want: "< 25 (at 200/s)", Met: r.Webhooks.Latency.P99 < 25})
	}
	ts = append(ts,
		target{Name: "Retry-After violations", Value: float64(r.Slack.Violations), Want: "0", Met: r.Slack.Violations == 0},
		target{Name: "lost groups", Value: float64(r.Delivery.Lost), Want: "0", Met: r.Delivery.Lost == 0 && !r.TimedOut},
		target{Name: "delivered rate, worst channel", Value: r.Rate.MinPercent, Unit: "%", Want: "≥ 95", Met: r.Rate.MinPercent >= 95},
	)
	if r.Critical != nil {
		ts = append(ts, target{Name: "critical time-to-Slack", Value: r.Critical.Slots, Unit: "slots", Want: "≤ 2", Met: r.Critical.Delivered && r.Critical.Slots <= 2})
	}
	return ts
}

// failed reports whether the storm must exit non-zero: something accepted
// was lost, amslack ignored a Retry-After, or the storm did not finish.
func (r *report) failed() bool {
	return r.Delivery.Lost > 0 || r.Slack.Violations > 0 || r.TimedOut || len(r.Errors) > 0
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// writeText prints the report as a table with a legend.
func (r *report) writeText(w io.Writer) error {
	s := r.Settings
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format+"\n", args...) }
	pace := "unpaced"
	if s.Rate > 0 {
		pace = fmt.Sprintf("%g/s", s.Rate)
	}
	p("amslack storm: %d groups × %d notifications in %d channels, %s, concurrency %d", s.Groups, s.Notifications, s.Channels, pace, s.Concurrency)
	if s.Redis {
		spread := "evenly"
		if s.Skew > 0 {
			spread = fmt.Sprintf("%.0f%% of the groups to replica 0, the rest evenly", 100*s.Skew)
		}
		p("amslack: %d %s sharing Redis (key prefix %s), groups sent %s", s.Replicas, plural(s.Replicas, "replica", "replicas"), s.RedisKeyPrefix, spread)
	} else {
		p("amslack: 1 replica, embedded bbolt outbox")
	}
	p("Slack limits: %g/s per channel (burst %d), chat.update %d/min, workspace %d/min, Retry-After ≥ %gs, latency %gms",
		s.ChannelRate, s.ChannelBurst, s.UpdatePerMinute, s.WorkspacePerMinute, s.RetryAfterSeconds, s.LatencyMS)
	p("")
	wh := r.Webhooks
	p("webhooks\tsent %d, accepted %d (%.0f/s), answers %s", wh.Sent, wh.Accepted, wh.AcceptedPerSecond, statusesText(wh.Statuses))
	if len(wh.AcceptedPerReplica) > 1 {
		p("  per replica\taccepted %s", intsText(wh.AcceptedPerReplica))
	}
	p("  latency\tp50 %.2f ms\tp99 %.2f ms\tmax %.2f ms\t(from %s)", wh.Latency.P50, wh.Latency.P99, wh.Latency.Max, wh.LatencyFrom)
	b := r.Baseline
	p("fsync baseline\t%d writes of %d B\tp50 %.2f ms\tp99 %.2f ms\tp99 ratio %.2f×", b.Writes, b.PayloadBytes, b.Latency.P50, b.Latency.P99, b.Ratio)
	sl := r.Slack
	p("slack calls\tpostMessage %d\tupdate %d\treplies %d\ttotal %d", sl.PostMessage, sl.Update, sl.Replies, sl.Total)
	p("  vs minimum\t%d (one post per group)\twithout coalescing %d\tsaved %.1f%%\t%d notifications coalesced", sl.Minimum, sl.WithoutCoalescing, sl.SavedPercent, sl.Coalesced)
	p("  per notification\t%.3f calls\textra calls %d (beyond a post per group, and an update and a reply per accepted notification not coalesced)", sl.PerNotification, sl.Extra)
	p("  429s\t%d (amslack counted %d)\tother errors %d\tRetry-After violations %d", sl.RateLimited, sl.AmslackRateLimited, sl.OtherErrors, sl.Violations)
	for _, v := range sl.ViolationList {
		p("    violation\t%s", v)
	}
	p("  connections\t%d opened by amslack to Slack", sl.Connections)
	rr := r.Rate
	p("delivered rate\tmin %.1f%%\tmedian %.1f%%\tof %g/s per channel while a backlog existed", rr.MinPercent, rr.MedianPercent, rr.ChannelRate)
	for _, c := range rr.PerChannel {
		p("  %s\t%d calls in %.2f s\t%.1f%%", c.Channel, c.Calls, c.BusySeconds, c.Percent)
	}
	if c := r.Critical; c != nil {
		if c.Delivered {
			where := c.Channel
			if c.BacklogChannels > 0 {
				where = fmt.Sprintf("%d other channels", c.BacklogChannels)
			}
			p("critical\t%.1f ms = %.2f %s slots\t%d calls before it\tbehind %d warnings (%d accepted in %.1f s) in %s\t429s before it %d",
				c.TimeMS, c.Slots, c.SlotOf, c.CallsBefore, c.Backlog, c.BacklogAccepted, c.BacklogSeconds, where, c.RateLimited)
		} else {
			p("critical\tnot delivered\tbehind %d warnings in %s", c.Backlog, c.Channel)
		}
	}
	d := r.Delivery
	p("delivery\t%d groups accepted\t%d final in Slack\tlost %d\tduplicates %d\tdrained %.1f s after the last webhook (storm %.1f s)",
		d.Accepted, d.Final, d.Lost, d.Duplicates, d.DrainSeconds, d.StormSeconds)
	if d.Unaccepted > 0 {
		p("  unaccepted\t%d groups show a notification sent after their last accepted one and not answered 200", d.Unaccepted)
	}
	for _, g := range d.LostGroups {
		p("  lost\t%s", g)
	}
	m := r.Memory
	p("memory\tpeak RSS %s\theap in use after GC %s (live %s)\twith the fake's records %s\tsampled peak heap %s\t%d groups tracked, %d pending",
		mib(m.PeakRSS), mib(m.HeapInuse), mib(m.HeapAlloc), mib(m.HeapInuseWithFake), mib(m.PeakHeapSampled), m.GroupsTracked, m.PendingAfterStorm)
	p("")
	p("targets")
	for _, t := range r.Targets {
		verdict := "met"
		if !t.Met {
			verdict = "MISSED"
		}
		p("  %s\t%.2f %s\twant %s\t%s", t.Name, t.Value, t.Unit, t.Want, verdict)
	}
	if r.TimedOut {
		p("TIMED OUT: --timeout ended the storm before it finished")
	}
	for _, e := range r.Errors {
		p("error\t%s", e)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, legend)
	return err
}

// legend explains the table.
const legend = `
Legend:
  webhooks: latency is the time to amslack's answer; 200 means the notification is durably
    recorded: on disk, or with --redis in Redis.
  fsync baseline: one write of a storm payload plus fsync to a file in the storage
    directory, on the same schedule and concurrency as the webhooks, --baseline-writes times.
  slack calls: what the fake Slack accepted during the storm (the critical phase is not counted).
    Each group needs at least one chat.postMessage; a change of an already posted group
    costs a chat.update and a thread reply. Coalescing merges notifications that arrive
    before their group's pending entry is sent. Extra calls are those beyond that: an entry
    sent twice, or a notification answered 503 that amslack recorded anyway (two calls each).
  delivered rate: per channel, the accepted chat.postMessage (thread replies included) and
    chat.update calls after the channel's first, over the time from its first to its last
    call less the sampled gaps in which its outbox backlog was empty, divided by the channel
    rate. amslack spends one channel send slot per call (post, update or thread reply),
    so 100% means every slot was used.
  critical: time from the critical webhook's 200 to the fake Slack receiving its
    chat.postMessage; a slot is 1/channel-rate, or with --critical-channels, where the
    backlog is in other channels, one of the workspace limit's.
  lost: groups whose last accepted notification Slack does not show, nor a later one that
    was sent but not answered 200 (amslack may record a notification and still fail to
    answer 200, as when a Redis call times out after its write; Alertmanager would send it
    again); duplicates: groups with more than one top-level message.
  memory: peak RSS is the whole process (amslack's replicas, the fake Slack and the load
    generator); the heap after GC excludes the fake Slack's stored messages and requests.
  replicas: each an amslack of its own in this process, with its own storage directory and
    metrics; with --redis they share the outbox, group state and Slack rate limits in Redis,
    and a channel is delivered by the replica holding its lease. A group's notifications
    all go to one replica. The backlog is read from replica 0's metrics, which with Redis
    show the whole outbox; counters are summed over the replicas.
`

// plural returns one or many by n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// intsText lists ns separated by commas.
func intsText(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = fmt.Sprint(n)
	}
	return strings.Join(parts, ", ")
}

func statusesText(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s×%d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
