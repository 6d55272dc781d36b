package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
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
	"github.com/redis/go-redis/v9"

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
	// Replicas is the number of amslack replicas; more than one need
	// Redis.
	Replicas int
	// Redis is the host:port of the Redis that replicas share the outbox,
	// the group state and Slack's rate limits in; empty for the embedded
	// bbolt outbox of one replica.
	Redis string
	// Skew is the share of the groups whose notifications go to replica
	// 0, the rest spread evenly over the others; 0 spreads all groups
	// evenly.
	Skew float64
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
		Replicas:           1,
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
	positive("replicas", o.Replicas)
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
	if o.Replicas > 99 {
		errs = append(errs, errors.New("--replicas must be below 100"))
	}
	if o.Replicas > 1 && o.Redis == "" {
		errs = append(errs, fmt.Errorf("--replicas %d needs --redis: replicas share their outbox in Redis", o.Replicas))
	}
	if o.Redis != "" {
		if _, _, err := net.SplitHostPort(o.Redis); err != nil {
			errs = append(errs, fmt.Errorf("--redis %q: want host:port: %v", o.Redis, err))
		}
	}
	if !(o.Skew >= 0 && o.Skew <= 1) {
		errs = append(errs, fmt.Errorf("--skew must be from 0 to 1, got %g", o.Skew))
	} else if o.Skew > 0 && o.Replicas < 2 {
		errs = append(errs, errors.New("--skew needs --replicas above 1"))
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
// (the webhook's ?channel= picks each group's channel), the storm's limits
// in delivery: and, with a key prefix, store.redis.
func configYAML(slackURL string, channels []string, o options, keyPrefix string) string {
	var store string
	if keyPrefix != "" {
		store = fmt.Sprintf("store:\n  redis:\n    address: %q\n    key_prefix: %q\n", o.Redis, keyPrefix)
	}
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
%s`, slackURL, botToken, channels[0], o.ChannelRate, o.ChannelBurst, o.UpdatePerMinute, o.WorkspacePerMinute, store)
}

// replicaOf returns the replica of n that group g's notifications go to,
// as one Alertmanager connection sends a group's notifications to one
// receiver. With skew 0 the groups are spread evenly; with skew s a share
// s of them goes to replica 0 and the rest evenly to the others. A group's
// place is frac(g·φ), the golden-ratio sequence, which spreads any run of
// groups, and the groups of each channel (g mod channels), almost evenly
// over [0, 1): each channel's groups are split in the same proportions.
func replicaOf(g, n int, skew float64) int {
	if n <= 1 {
		return 0
	}
	u := math.Mod(float64(g)*math.Phi, 1)
	if skew == 0 {
		return min(int(u*float64(n)), n-1)
	}
	if u < skew {
		return 0
	}
	return 1 + min(int((u-skew)/(1-skew)*float64(n-1)), n-2)
}

// replicaStorage returns the storage directory of replica i of n: the
// storage directory itself for one replica, a directory in it for each of
// several.
func replicaStorage(storage string, i, n int) string {
	if n == 1 {
		return storage
	}
	return filepath.Join(storage, fmt.Sprintf("replica%02d", i))
}

// newKeyPrefix returns a Redis key prefix of the storm's own, so that it
// neither sees nor disturbs the keys of other runs or installations.
func newKeyPrefix() string {
	return "amslack-storm:" + rand.Text() + ":"
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
	}
	for i := range o.Replicas {
		dir := replicaStorage(storage, i, o.Replicas)
		if _, err := os.Stat(app.DBPath(dir)); err == nil {
			// Entries left from another run would be delivered too,
			// and counted against this one.
			return nil, fmt.Errorf("--storage %s already holds a database in %s: give an empty directory", storage, dir)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
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

	r, err := startRig(ctx, o, work, storage, channels)
	if err != nil {
		return nil, err
	}
	// On the way out of an early return; the normal path stops the rig
	// itself, to measure the peak RSS after everything ran.
	defer r.stop()
	fake := r.fake
	rep.Settings.RedisKeyPrefix = r.keyPrefix

	smp := newSampler(r.gatherers(), channels, sampleEvery)
	sampleCtx, stopSampling := context.WithCancel(ctx)
	var bg sync.WaitGroup
	defer bg.Wait()
	defer stopSampling()
	bg.Go(func() { _ = smp.Run(sampleCtx) })

	// Phase 2: the storm. Round j sends notification j of every group,
	// so groups interleave and each group's notifications go in order,
	// all to the group's replica.
	wcs := make([]*webhookClient, len(r.urls))
	for i, u := range r.urls {
		wcs[i] = newWebhookClient(u, o.Concurrency)
		defer wcs[i].close()
	}
	progressCtx, stopProgress := context.WithCancel(ctx)
	defer stopProgress()
	bg.Go(func() { progress(progressCtx, o.Progress, "storm", smp, wcs, total) })
	gate := newOrderGate(o.Groups)
	load := schedule{n: total, concurrency: o.Concurrency, rate: o.Rate}.run(ctx, func(ctx context.Context, i int) outcome {
		g, j := i%o.Groups, i/o.Groups
		if !gate.wait(ctx, g, j) {
			return outcome{status: -1, start: time.Now()}
		}
		defer gate.done(g)
		wc := wcs[replicaOf(g, o.Replicas, o.Skew)]
		return wc.post(ctx, channels[g%o.Channels], payload(groupName(prefixStorm, g), g, "warning", stepOf(j, o.Notifications)))
	})
	sentEnd := time.Now()
	rep.Webhooks = webhookReportOf(load, o.Rate > 0)
	rep.Webhooks.AcceptedPerReplica = acceptedPerReplica(load, o)
	rep.Baseline.Ratio = ratio(rep.Webhooks.Latency.P99, rep.Baseline.Latency.P99)

	// What each group should show in Slack: its last accepted
	// notification, or a later one sent.
	want := make([]expected, o.Groups)
	for g := range want {
		want[g] = expected{accepted: -1, sent: -1}
	}
	for i, st := range load.status {
		g, j := i%o.Groups, i/o.Groups
		if st == http.StatusOK {
			want[g].accepted = max(want[g].accepted, j)
		}
		if st != -1 {
			want[g].sent = max(want[g].sent, j)
		}
	}
	scan, timedOut := waitFinal(ctx, fake, smp, channels, want, o.Notifications)
	drained := time.Now()
	stopProgress()
	rep.TimedOut = timedOut
	rep.Delivery = deliveryReport{
		Groups: o.Groups, Accepted: scan.accepted, Final: scan.final, Unaccepted: scan.unaccepted, Lost: scan.lost,
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
		cr, err := injectCritical(ctx, o, fake, smp, r.urls[0], channels[0])
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

// rig is amslack's replicas and the fake Slack running in this process,
// each served by a real HTTP server on its own loopback listener.
type rig struct {
	fake *slackfake.Server
	// apps are the replicas, each with its own storage directory and
	// registry (regs), answering webhooks at urls.
	apps []*app.App
	regs []*prometheus.Registry
	urls []string
	// rdb reaches the Redis the replicas share under keyPrefix, to delete
	// their keys when they stop; nil and "" without Redis.
	rdb       *redis.Client
	keyPrefix string
	// slackConns counts the connections amslack opened to the fake Slack.
	slackConns atomic.Int64

	fakeSrv  *http.Server
	servers  sync.WaitGroup
	stopOnce sync.Once
	stopErr  error
}

// startRig starts the fake Slack with the storm's limits, then each replica
// built by app.New and started by Start, as the amslack command runs it,
// from one configuration file that points them at the fake and, with
// --redis, at the Redis they share under a key prefix of this storm's own.
func startRig(ctx context.Context, o options, work, storage string, channels []string) (*rig, error) {
	r := &rig{
		fake: slackfake.New(slackfake.Options{
			Token:              botToken,
			ChannelPerSecond:   o.ChannelRate,
			ChannelBurst:       o.ChannelBurst,
			MethodPerMinute:    map[string]int{"chat.update": o.UpdatePerMinute},
			WorkspacePerMinute: o.WorkspacePerMinute,
			RetryAfter:         o.RetryAfter,
		}),
	}
	r.fake.SetLatency(o.Latency)
	if o.Redis != "" {
		r.rdb = redis.NewClient(&redis.Options{Addr: o.Redis})
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := r.rdb.Ping(pctx).Err()
		cancel()
		if err != nil {
			r.rdb.Close()
			return nil, fmt.Errorf("--redis %s: %w", o.Redis, err)
		}
		r.keyPrefix = newKeyPrefix()
	}
	fakeLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		r.closeRedis()
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

	cfgPath := filepath.Join(work, "amslack.yml")
	cfg := configYAML("http://"+fakeLn.Addr().String()+"/api/", channels, o, r.keyPrefix)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, errors.Join(err, r.stop())
	}
	for i := range o.Replicas {
		reg := prometheus.NewRegistry()
		am, err := app.New(app.Options{
			ConfigFile: cfgPath, StoragePath: replicaStorage(storage, i, o.Replicas),
			Logger: o.Logger.With("replica", i), Registry: reg, ListenAddress: "127.0.0.1:0",
		})
		if err != nil {
			return nil, errors.Join(fmt.Errorf("replica %d: %w", i, err), r.stop())
		}
		if err := am.Start(context.Background()); err != nil {
			_ = am.Stop(context.Background())
			return nil, errors.Join(fmt.Errorf("replica %d: %w", i, err), r.stop())
		}
		r.apps = append(r.apps, am)
		r.regs = append(r.regs, reg)
		r.urls = append(r.urls, "http://"+am.Addr().String())
	}
	return r, nil
}

// gatherers returns the replicas' registries, replica 0's first.
func (r *rig) gatherers() []prometheus.Gatherer {
	out := make([]prometheus.Gatherer, len(r.regs))
	for i, reg := range r.regs {
		out[i] = reg
	}
	return out
}

// stop shuts the replicas down together, each in its own order (refuse new
// webhooks, finish the requests in flight, stop the sender, close the
// storage), then the fake Slack, and deletes the storm's keys in Redis.
// Only the first call does anything.
func (r *rig) stop() error {
	r.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// Stop leaves the storage open when the sender does not stop in
		// time: closing it under a running sender would fail its writes.
		errs := make([]error, len(r.apps))
		var wg sync.WaitGroup
		for i, am := range r.apps {
			wg.Go(func() {
				if err := am.Stop(ctx); err != nil {
					errs[i] = fmt.Errorf("stop replica %d: %w", i, err)
				}
			})
		}
		wg.Wait()
		_ = r.fakeSrv.Shutdown(ctx)
		r.fakeSrv.Close()
		r.servers.Wait()
		errs = append(errs, r.deleteKeys(ctx))
		r.closeRedis()
		r.stopErr = errors.Join(errs...)
	})
	return r.stopErr
}

// deleteKeys deletes every key under the storm's prefix in Redis.
func (r *rig) deleteKeys(ctx context.Context) error {
	if r.rdb == nil {
		return nil
	}
	iter := r.rdb.Scan(ctx, 0, r.keyPrefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("delete the storm's keys %s* in Redis: %w", r.keyPrefix, err)
	}
	for c := range slices.Chunk(keys, 1000) {
		if err := r.rdb.Unlink(ctx, c...).Err(); err != nil {
			return fmt.Errorf("delete the storm's keys %s* in Redis: %w", r.keyPrefix, err)
		}
	}
	return nil
}

func (r *rig) closeRedis() {
	if r.rdb != nil {
		r.rdb.Close()
	}
}

// heapAfterGC collects garbage and returns the heap's bytes in use (spans)
// and live (objects).
func heapAfterGC() (inuse, alloc uint64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse, m.HeapAlloc
}

// expected is what Slack may show of one group once the storm is over: its
// last accepted notification, or a later one that was sent but not
// answered 200. amslack may have recorded that one before its answer
// failed (as when a call to Redis times out after the write), which
// Alertmanager's retry of the notification would have done anyway.
type expected struct {
	// accepted is the last notification answered 200, -1 for none; sent
	// is the last one sent, -1 for none.
	accepted, sent int
}

// shows reports whether header shows one of the notifications e allows of
// a group with k, and whether that one is later than the last accepted.
func (e expected) shows(header string, k int) (ok, later bool) {
	if e.accepted < 0 {
		return false, false
	}
	if stepOf(e.accepted, k).headerMatches(header) {
		return true, false
	}
	for j := e.accepted + 1; j <= e.sent; j++ {
		if stepOf(j, k).headerMatches(header) {
			return true, true
		}
	}
	return false, false
}

// finalScan is what the fake Slack shows of the storm's groups.
type finalScan struct {
	// accepted counts the groups with at least one accepted
	// notification, final those whose latest message shows the last one
	// or, for unaccepted of them, a later one that was not answered 200.
	accepted, final, unaccepted, lost, duplicates int
	// lostNames names the first lost groups.
	lostNames []string
}

// maxListed bounds the lost groups and violations a report lists.
const maxListed = 20

// scanFinal reads every storm message in the fake Slack and compares it
// with what is expected of each group.
func scanFinal(fake *slackfake.Server, channels []string, want []expected, k int) finalScan {
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
	for g, e := range want {
		if e.accepted < 0 {
			continue
		}
		s.accepted++
		switch ok, later := e.shows(latest[g], k); {
		case ok:
			s.final++
			if later {
				s.unaccepted++
			}
		default:
			s.lost++
			if len(s.lostNames) < maxListed {
				s.lostNames = append(s.lostNames, fmt.Sprintf("%s (want notification %d, Slack shows %q)", groupName(prefixStorm, g), e.accepted+1, latest[g]))
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
func waitFinal(ctx context.Context, fake *slackfake.Server, smp *sampler, channels []string, want []expected, k int) (finalScan, bool) {
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
	bg.Go(func() { progress(progressCtx, o.Progress, "critical", smp, []*webhookClient{wc}, o.CriticalBacklog+1) })
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
