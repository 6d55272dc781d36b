package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/amslack/amslack/cmd/internal/app"
	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// options are the storm's settings.
type options struct {
	Groups        int
	Channels      int
	Notifications int
	// Rate is webhooks per second; 0 sends as fast as Concurrency allows.
	Rate        float64
	Concurrency int
	// Slack's limits, given to the fake Slack and to amslack's delivery:
	// section alike.
	ChannelRate        float64
	ChannelBurst       int
	UpdatePerMinute    int
	WorkspacePerMinute int
	RetryAfter         time.Duration
	// Latency delays every fake Slack request.
	Latency         time.Duration
	CriticalBacklog int
	// CriticalChannels, if not 0, spreads the backlog over that many
	// channels and sends the critical alert to another: then only the
	// limits all channels share stand between it and Slack.
	CriticalChannels int
	// Timeout bounds the whole run.
	Timeout time.Duration
	// Storage is amslack's storage directory; empty for a temporary one.
	Storage string
	// BaselineWrites is the number of fsync'd writes of the baseline.
	BaselineWrites int
	// Progress gets a progress line every second; nil for none.
	Progress io.Writer
	// Logger gets amslack's logs.
	Logger *slog.Logger

	// afterDrain, if set, sees the fake Slack once the storm has drained,
	// before its records are cleared for the memory measurement.
	afterDrain func(*slackfake.Server)
}

// defaultOptions are the flags' defaults: on two cores the storm finishes
// in about a minute. The limits are Slack's scaled up ("higher limits to
// compress time"): 20 messages per second per channel instead of about 1.
func defaultOptions() options {
	return options{
		Groups:             1000,
		Channels:           4,
		Notifications:      3,
		Concurrency:        16,
		ChannelRate:        20,
		ChannelBurst:       3,
		UpdatePerMinute:    6000,
		WorkspacePerMinute: 60000,
		RetryAfter:         time.Second,
		Latency:            5 * time.Millisecond,
		CriticalBacklog:    1000,
		Timeout:            5 * time.Minute,
		BaselineWrites:     2000,
	}
}

func (o options) validate() error {
	var errs []error
	positive := func(name string, v int) {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("--%s must be positive, got %d", name, v))
		}
	}
	positive("groups", o.Groups)
	positive("channels", o.Channels)
	positive("notifications", o.Notifications)
	positive("concurrency", o.Concurrency)
	positive("channel-burst", o.ChannelBurst)
	positive("update-per-minute", o.UpdatePerMinute)
	positive("workspace-per-minute", o.WorkspacePerMinute)
	positive("baseline-writes", o.BaselineWrites)
	if o.Groups > 999_999 || o.CriticalBacklog > 999_999 {
		errs = append(errs, errors.New("--groups and --critical-backlog must be below a million"))
	}
	if o.Channels > 999 {
		errs = append(errs, errors.New("--channels must be below 1000"))
	}
	if o.Rate < 0 {
		errs = append(errs, errors.New("--rate must not be negative"))
	}
	if o.ChannelRate <= 0 {
		errs = append(errs, errors.New("--channel-rate must be positive"))
	}
	if o.CriticalBacklog < 0 {
		errs = append(errs, errors.New("--critical-backlog must not be negative"))
	}
	if o.CriticalChannels < 0 || o.CriticalChannels > 9999 {
		errs = append(errs, errors.New("--critical-channels must be from 0 to 9999"))
	}
	if o.Timeout <= 0 {
		errs = append(errs, errors.New("--timeout must be positive"))
	}
	if o.RetryAfter < 0 || o.Latency < 0 {
		errs = append(errs, errors.New("--retry-after and --latency must not be negative"))
	}
	return errors.Join(errs...)
}

// channelIDs returns the storm's channels.
func channelIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("C0STORM%03d", i)
	}
	return out
}

// botToken is the token amslack uses and the fake Slack requires.
const botToken = "xoxb-storm"

// configYAML is amslack's configuration for a storm: one default route
// (the webhook's ?channel= picks each group's channel) and the storm's
// limits in delivery:.
func configYAML(slackURL string, channels []string, o options) string {
	return fmt.Sprintf(`slack:
  api_url: %s
  bot_token: %s
routes:
  - name: storm
    channel: %s
delivery:
  channel_rate: %g
  channel_burst: %d
  method_per_minute:
    chat.update: %d
  workspace_per_minute: %d
`, slackURL, botToken, channels[0], o.ChannelRate, o.ChannelBurst, o.UpdatePerMinute, o.WorkspacePerMinute)
}

// sampleEvery is how often the outbox's backlog is sampled: well under one
// send slot at the default channel rate (50 ms).
const sampleEvery = 10 * time.Millisecond

// storm runs amslack in process against a fake Slack, sends it a storm of
// notifications and then a critical alert behind a backlog, and reports what
// it measured. An error means the storm could not run; what went wrong
// during the storm is in the report.
func storm(ctx context.Context, o options) (*report, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	rep := &report{Settings: settingsOf(o)}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()

	work, err := os.MkdirTemp("", "amslack-storm-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	storage := o.Storage
	if storage == "" {
		storage = filepath.Join(work, "data")
	} else if _, err := os.Stat(app.DBPath(storage)); err == nil {
		// Entries left from another run would be delivered too, and
		// counted against this one.
		return nil, fmt.Errorf("--storage %s already holds a database: give an empty directory", storage)
	}
	if err := os.MkdirAll(storage, 0o700); err != nil {
		return nil, err
	}
	channels := channelIDs(o.Channels)
	total := o.Groups * o.Notifications

	// Phase 1: the bare cost of a durable write on this disk, before
	// amslack runs, with the same payloads on the same schedule.
	base, baseBytes, err := fsyncBaseline(ctx, storage,
		schedule{n: o.BaselineWrites, concurrency: o.Concurrency, rate: o.Rate},
		func(i int) []byte {
			i %= total
			return payload(groupName(prefixStorm, i%o.Groups), i%o.Groups, "warning", stepOf(i/o.Groups, o.Notifications))
		})
	if err != nil {
		return nil, err
	}
	rep.Baseline = baselineReportOf(base, baseBytes)

	r, err := startRig(o, work, storage, channels)
	if err != nil {
		return nil, err
	}
	// On the way out of an early return; the normal path stops the rig
	// itself, to measure the peak RSS after everything ran.
	defer r.stop()
	fake := r.fake

	smp := newSampler(r.reg, channels, sampleEvery)
	sampleCtx, stopSampling := context.WithCancel(ctx)
	var bg sync.WaitGroup
	defer bg.Wait()
	defer stopSampling()
	bg.Go(func() { _ = smp.Run(sampleCtx) })

	// Phase 2: the storm. Round j sends notification j of every group,
	// so groups interleave and each group's notifications go in order.
	wc := newWebhookClient(r.amslackURL, o.Concurrency)
	defer wc.close()
	progressCtx, stopProgress := context.WithCancel(ctx)
	defer stopProgress()
	bg.Go(func() { progress(progressCtx, o.Progress, "storm", smp, wc, total) })
	gate := newOrderGate(o.Groups)
	load := schedule{n: total, concurrency: o.Concurrency, rate: o.Rate}.run(ctx, func(ctx context.Context, i int) outcome {
		g, j := i%o.Groups, i/o.Groups
		if !gate.wait(ctx, g, j) {
			return outcome{status: -1, start: time.Now()}
		}
		defer gate.done(g)
		return wc.post(ctx, channels[g%o.Channels], payload(groupName(prefixStorm, g), g, "warning", stepOf(j, o.Notifications)))
	})
	sentEnd := time.Now()
	rep.Webhooks = webhookReportOf(load, o.Rate > 0)
	rep.Baseline.Ratio = ratio(rep.Webhooks.Latency.P99, rep.Baseline.Latency.P99)

	// What each group should show in Slack: its last accepted
	// notification.
	want := make([]int, o.Groups)
	for g := range want {
		want[g] = -1
	}
	for i, st := range load.status {
		if st == http.StatusOK {
			g, j := i%o.Groups, i/o.Groups
			want[g] = max(want[g], j)
		}
	}
	scan, timedOut := waitFinal(ctx, fake, smp, channels, want, o.Notifications)
	drained := time.Now()
	stopProgress()
	rep.TimedOut = timedOut
	rep.Delivery = deliveryReport{
		Groups: o.Groups, Accepted: scan.accepted, Final: scan.final, Lost: scan.lost,
		Duplicates: scan.duplicates, LostGroups: scan.lostNames,
		DrainSeconds: drained.Sub(sentEnd).Seconds(), StormSeconds: drained.Sub(load.begin).Seconds(),
	}

	g, err := smp.read()
	if err != nil {
		rep.Errors = append(rep.Errors, err.Error())
	}
	requests := fake.Requests()
	violations := fake.Violations()
	rep.Slack = slackReportOf(requests, violations, g, o.Groups, rep.Webhooks.Accepted, scan.accepted)
	rep.Slack.Connections = int(r.slackConns.Load())
	rep.Rate = rateReportOf(requests, channels, smp, o.ChannelRate)
	if o.afterDrain != nil {
		o.afterDrain(fake)
	}

	// Memory: what amslack holds once the storm is over. The fake Slack
	// keeps every message, edit and request, which grows with the
	// notifications and is not amslack's; the heap is measured with and
	// without those records.
	rep.Memory.HeapInuseWithFake, _ = heapAfterGC()
	fake.Reset()
	rep.Memory.HeapInuse, rep.Memory.HeapAlloc = heapAfterGC()
	rep.Memory.PeakHeapSampled = smp.peakHeapBytes()
	rep.Memory.GroupsTracked = o.Groups
	rep.Memory.PendingAfterStorm = int(g.pendingTotal())

	// Phase 3: a critical alert behind a backlog of warnings.
	if !timedOut && ctx.Err() == nil {
		cr, err := injectCritical(ctx, o, fake, smp, r.amslackURL, channels[0])
		if err != nil {
			rep.Errors = append(rep.Errors, err.Error())
		}
		rep.Critical = cr
		v := fake.Violations()
		rep.Slack.Violations += len(v)
		rep.Slack.ViolationList = append(rep.Slack.ViolationList, violationsText(v)...)
	}
	if ctx.Err() != nil && !timedOut {
		rep.TimedOut = errors.Is(ctx.Err(), context.DeadlineExceeded)
	}

	stopSampling()
	bg.Wait()
	if err := r.stop(); err != nil {
		rep.Errors = append(rep.Errors, err.Error())
	}
	rep.Memory.PeakRSS, err = peakRSS()
	if err != nil {
		rep.Errors = append(rep.Errors, err.Error())
	}
	rep.Targets = targetsOf(rep, o)
	return rep, nil
}

// rig is amslack and the fake Slack running in this process, each served
// by a real HTTP server on its own loopback listener.
type rig struct {
	fake       *slackfake.Server
	am         *app.App
	reg        *prometheus.Registry
	amslackURL string
	// slackConns counts the connections amslack opened to the fake Slack.
	slackConns atomic.Int64

	fakeSrv  *http.Server
	servers  sync.WaitGroup
	stopOnce sync.Once
	stopErr  error
}

// startRig starts the fake Slack with the storm's limits, then amslack built
// by app.New and started by Start, as the amslack command runs it, from a
// configuration file that points it at the fake.
func startRig(o options, work, storage string, channels []string) (*rig, error) {
	r := &rig{
		fake: slackfake.New(slackfake.Options{
			Token:              botToken,
			ChannelPerSecond:   o.ChannelRate,
			ChannelBurst:       o.ChannelBurst,
			MethodPerMinute:    map[string]int{"chat.update": o.UpdatePerMinute},
			WorkspacePerMinute: o.WorkspacePerMinute,
			RetryAfter:         o.RetryAfter,
		}),
		reg: prometheus.NewRegistry(),
	}
	r.fake.SetLatency(o.Latency)
	fakeLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r.fakeSrv = &http.Server{
		Handler:           r.fake,
		ReadHeaderTimeout: 10 * time.Second,
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				r.slackConns.Add(1)
			}
		},
	}
	r.servers.Go(func() { _ = r.fakeSrv.Serve(fakeLn) })
	fail := func(err error) (*rig, error) {
		r.fakeSrv.Close()
		r.servers.Wait()
		return nil, err
	}

	cfgPath := filepath.Join(work, "amslack.yml")
	if err := os.WriteFile(cfgPath, []byte(configYAML("http://"+fakeLn.Addr().String()+"/api/", channels, o)), 0o600); err != nil {
		return fail(err)
	}
	r.am, err = app.New(app.Options{ConfigFile: cfgPath, StoragePath: storage, Logger: o.Logger, Registry: r.reg, ListenAddress: "127.0.0.1:0"})
	if err != nil {
		return fail(err)
	}
	if err := r.am.Start(context.Background()); err != nil {
		_ = r.am.Stop(context.Background())
		return fail(err)
	}
	r.amslackURL = "http://" + r.am.Addr().String()
	return r, nil
}

// stop shuts amslack down in its own order (refuse new webhooks, finish the
// requests in flight, stop the sender, close the storage), then the fake
// Slack. Only the first call does anything.
func (r *rig) stop() error {
	r.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// Stop leaves the storage open when the sender does not stop in
		// time: closing it under a running sender would fail its writes.
		r.stopErr = r.am.Stop(ctx)
		_ = r.fakeSrv.Shutdown(ctx)
		r.fakeSrv.Close()
		r.servers.Wait()
	})
	return r.stopErr
}

// heapAfterGC collects garbage and returns the heap's bytes in use (spans)
// and live (objects).
func heapAfterGC() (inuse, alloc uint64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse, m.HeapAlloc
}

// finalScan is what the fake Slack shows of the storm's groups.
type finalScan struct {
	// accepted counts the groups with at least one accepted
	// notification, final those whose latest message shows the last one.
	accepted, final, lost, duplicates int
	// lostNames names the first lost groups.
	lostNames []string
}

// maxListed bounds the lost groups and violations a report lists.
const maxListed = 20

// scanFinal reads every storm message in the fake Slack. want holds, per
// group, the last accepted notification, -1 for none.
func scanFinal(fake *slackfake.Server, channels []string, want []int, k int) finalScan {
	latest := make([]string, len(want))
	tops := make([]int, len(want))
	for _, ch := range channels {
		for _, m := range fake.Messages(ch) {
			h := m.HeaderText()
			g, ok := parseGroupName(h, prefixStorm)
			if !ok || g >= len(want) {
				continue
			}
			tops[g]++
			if ch != channels[g%len(channels)] {
				// In the wrong channel: not the group's state.
				continue
			}
			latest[g] = h
		}
	}
	var s finalScan
	for g, j := range want {
		if j < 0 {
			continue
		}
		s.accepted++
		if stepOf(j, k).headerMatches(latest[g]) {
			s.final++
		} else {
			s.lost++
			if len(s.lostNames) < maxListed {
				s.lostNames = append(s.lostNames, fmt.Sprintf("%s (want notification %d, Slack shows %q)", groupName(prefixStorm, g), j+1, latest[g]))
			}
		}
		if tops[g] > 1 {
			s.duplicates++
		}
	}
	return s
}

// settleWait is how long the storm waits, once amslack's outbox is empty,
// for groups still missing from Slack before it counts them lost: nothing
// more is coming.
const settleWait = 5 * time.Second

// waitFinal waits until Slack shows every group's last accepted
// notification, or ctx ends. The fake is read in full only when amslack's
// outbox is empty, since until then the storm cannot be over.
func waitFinal(ctx context.Context, fake *slackfake.Server, smp *sampler, channels []string, want []int, k int) (finalScan, bool) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	var emptySince time.Time
	for {
		select {
		case <-ctx.Done():
			return scanFinal(fake, channels, want, k), true
		case <-t.C:
		}
		g, err := smp.read()
		if err != nil || g.pendingTotal() > 0 {
			emptySince = time.Time{}
			continue
		}
		now := time.Now()
		if emptySince.IsZero() {
			emptySince = now
		}
		s := scanFinal(fake, channels, want, k)
		if s.lost == 0 || now.Sub(emptySince) > settleWait {
			return s, false
		}
		// Not there yet while nothing is pending: read again in a second
		// rather than every tick, since a full read is not cheap.
		select {
		case <-ctx.Done():
			return scanFinal(fake, channels, want, k), true
		case <-time.After(time.Second):
		}
	}
}

// injectCritical enqueues a backlog of warnings into one channel as fast as
// possible, then one critical alert group, and measures how long the
// critical one takes from its 200 to its chat.postMessage at the fake.
func injectCritical(ctx context.Context, o options, fake *slackfake.Server, smp *sampler, amslackURL, channel string) (*criticalReport, error) {
	cr := &criticalReport{Channel: channel, Backlog: o.CriticalBacklog, SlotOf: "channel"}
	backlogChannel := func(int) string { return channel }
	slot := time.Duration(float64(time.Second) / o.ChannelRate)
	if o.CriticalChannels > 0 {
		channel = "C0CRIT0001"
		cr.Channel, cr.BacklogChannels, cr.SlotOf = channel, o.CriticalChannels, "workspace"
		backlogChannel = func(i int) string { return fmt.Sprintf("C0BACK%04d", i%o.CriticalChannels) }
		// amslack's workspace bucket admits one call per slot (see
		// slackapi's perMinute).
		slot = time.Minute / time.Duration(max(1, o.WorkspacePerMinute-1))
	}
	wc := newWebhookClient(amslackURL, o.Concurrency)
	defer wc.close()
	progressCtx, stopProgress := context.WithCancel(ctx)
	var bg sync.WaitGroup
	defer bg.Wait()
	defer stopProgress()
	bg.Go(func() { progress(progressCtx, o.Progress, "critical", smp, wc, o.CriticalBacklog+1) })
	start := time.Now()
	backlog := schedule{n: o.CriticalBacklog, concurrency: o.Concurrency}.run(ctx, func(ctx context.Context, i int) outcome {
		return wc.post(ctx, backlogChannel(i), payload(groupName(prefixBacklog, i), i, "warning", stepOf(0, 1)))
	})
	cr.BacklogAccepted = len(backlog.accepted())
	cr.BacklogSeconds = time.Since(start).Seconds()

	events, unsubscribe := fake.Subscribe()
	defer unsubscribe()
	out := wc.post(ctx, channel, payload(groupName(prefixCritical, 0), 0, "critical", stepOf(0, 1)))
	accepted := time.Now()
	if out.status != http.StatusOK {
		return cr, fmt.Errorf("the critical notification got HTTP status %d", out.status)
	}

	// Wait for the post: events are cues, and a tick reads the request log
	// in case the subscription fell behind.
	isCritical := func(ts string) (slackfake.Message, bool) {
		m, ok := fake.Message(channel, ts)
		_, crit := parseGroupName(m.HeaderText(), prefixCritical)
		return m, ok && crit && m.ThreadTS == ""
	}
	deadline := time.NewTimer(time.Minute)
	defer deadline.Stop()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	seen := 0
	var msg slackfake.Message
	found := false
	for !found {
		select {
		case <-ctx.Done():
			return cr, fmt.Errorf("the critical message did not reach Slack before the timeout")
		case <-deadline.C:
			return cr, fmt.Errorf("the critical message did not reach Slack within a minute")
		case ev := <-events:
			if ev.Kind == slackfake.EventPost && ev.Channel == channel {
				msg, found = isCritical(ev.TS)
			}
		case <-tick.C:
			reqs := fake.Requests()
			for _, r := range reqs[seen:] {
				if r.Method == "chat.postMessage" && r.Channel == channel && r.Status == http.StatusOK && r.TS != "" && !found {
					msg, found = isCritical(r.TS)
				}
			}
			seen = len(reqs)
		}
	}
	d := msg.Posted.Sub(accepted)
	cr.Delivered = true
	cr.TimeMS = ms(d)
	cr.Slots = d.Seconds() / slot.Seconds()
	for _, r := range fake.Requests() {
		if !r.Time.Before(msg.Posted) {
			continue
		}
		if r.Status == http.StatusTooManyRequests {
			cr.RateLimited++
		}
		if (r.Channel == channel || o.CriticalChannels > 0) && r.Time.After(accepted) && callOK(r) {
			cr.CallsBefore++
		}
	}
	return cr, nil
}

// violationsText describes Retry-After violations for the report.
func violationsText(vs []slackfake.Violation) []string {
	var out []string
	for _, v := range vs[:min(len(vs), maxListed)] {
		out = append(out, fmt.Sprintf("%s %s in %s, %s before its Retry-After ended",
			v.Method, v.Channel, v.Scope, v.Until.Sub(v.Time).Round(time.Millisecond)))
	}
	return out
}

// peakRSS returns the process's peak resident set size (VmHWM), which
// includes the fake Slack running in it.
func peakRSS() (uint64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("read peak RSS: %w", err)
	}
	return parseVmHWM(string(b))
}

// errNoVmHWM is returned for a status file without a VmHWM line.
var errNoVmHWM = errors.New("no VmHWM line in /proc/self/status")

// parseVmHWM reads the VmHWM line of a /proc/<pid>/status file, which the
// kernel writes in kB ("VmHWM:\t  123456 kB"), and returns bytes.
func parseVmHWM(status string) (uint64, error) {
	for line := range strings.Lines(status) {
		rest, ok := strings.CutPrefix(line, "VmHWM:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("VmHWM line %q: want a number of kB", strings.TrimSpace(line))
		}
		var kb uint64
		for _, c := range []byte(f[0]) {
			if c < '0' || c > '9' || kb > (1<<53)/10 {
				return 0, fmt.Errorf("VmHWM line %q: want a number of kB", strings.TrimSpace(line))
			}
			kb = kb*10 + uint64(c-'0')
		}
		return kb * 1024, nil
	}
	return 0, errNoVmHWM
}

// sortedTimes returns ts sorted.
func sortedTimes(ts []time.Time) []time.Time {
	return slices.SortedFunc(slices.Values(ts), func(a, b time.Time) int { return a.Compare(b) })
}
