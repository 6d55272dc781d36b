package redisoutbox

import (
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/receiver/alertgroup/storetest"
	"github.com/amslack/amslack/receiver/outbox"
	"github.com/amslack/amslack/receiver/outbox/outboxtest"
)

// waitFor is how long a test waits for something that happens in the
// background: far longer than it takes.
const waitFor = 5 * time.Second

// replica is an Outbox with Run running, as one amslack replica has it.
type replica struct {
	*Outbox
	reg *prometheus.Registry
	// stop ends Run and waits for it, as when the replica dies: its leases
	// are not released.
	stop func()
}

// enqueue enqueues n, and fails the test if it cannot.
func (r *replica) enqueue(t testing.TB, n alertgroup.Notification) {
	t.Helper()
	if err := r.Enqueue(t.Context(), n); err != nil {
		t.Fatal(err)
	}
}

// start returns a replica on c with opts and a registry of its own; Run
// stops when the test ends.
func start(t testing.TB, c *redis.Client, opts Options) *replica {
	t.Helper()
	reg := prometheus.NewRegistry()
	opts.Registerer = reg
	o, err := New(c, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := o.Run(ctx); err != nil {
			t.Error(err)
		}
	}()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return &replica{Outbox: o, reg: reg, stop: stop}
}

func TestQueue(t *testing.T) {
	outboxtest.Run(t, func(t *testing.T, cfg outboxtest.Config) outbox.Queue {
		c := storetest.RedisClient(t)
		return start(t, c, Options{
			KeyPrefix: storetest.RedisPrefix(t, c),
			Options:   outbox.Options{Now: cfg.Now, DeadLetterLimit: cfg.DeadLetterLimit},
		}).Outbox
	})
}

// twoReplicas returns two replicas sharing one prefix, with lease TTL ttl.
func twoReplicas(t *testing.T, ttl time.Duration) (a, b *replica, c *redis.Client) {
	c = storetest.RedisClient(t)
	prefix := storetest.RedisPrefix(t, c)
	a = start(t, c, Options{KeyPrefix: prefix, Owner: "a", LeaseTTL: ttl})
	b = start(t, c, Options{KeyPrefix: prefix, Owner: "b", LeaseTTL: ttl})
	return a, b, c
}

// takeLease takes channel's lease on o, failing the test if another replica
// holds it.
func takeLease(t *testing.T, o *replica, channel string) outbox.Lease {
	t.Helper()
	l, ok, err := o.Lease(t.Context(), channel)
	if err != nil || !ok {
		t.Fatalf("Lease(%s) by %s = %v, %v; want the lease", channel, o.owner, ok, err)
	}
	return l
}

// leaseSoon waits for o to take channel's lease, trying whenever o's Wake
// signals.
func leaseSoon(t *testing.T, o *replica, channel string) outbox.Lease {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		l, ok, err := o.Lease(t.Context(), channel)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			return l
		}
		select {
		case <-o.Wake():
		case <-deadline:
			t.Fatalf("%s did not take the lease of %s within %v", o.owner, channel, waitFor)
		}
	}
}

func TestReplicasCoalesce(t *testing.T) {
	a, b, _ := twoReplicas(t, time.Second)
	first := outboxtest.Note("A", "warning", outboxtest.Epoch)
	newer := outboxtest.Note("A", "critical", outboxtest.Epoch.Add(time.Minute))
	a.enqueue(t, first)
	b.enqueue(t, newer)
	want := `
# HELP amslack_outbox_coalesced_total Enqueued entries that merged into a pending entry of the same alert group instead of adding one.
# TYPE amslack_outbox_coalesced_total counter
amslack_outbox_coalesced_total{kind="notify"} 1
amslack_outbox_coalesced_total{kind="refresh"} 0
`
	if err := testutil.GatherAndCompare(b.reg, strings.NewReader(want), "amslack_outbox_coalesced_total"); err != nil {
		t.Errorf("coalesced on b: %v", err)
	}
	takeLease(t, a, outboxtest.Channel)
	e, ok, _ := a.Claim(outboxtest.Channel, outboxtest.Epoch)
	if !ok {
		t.Fatal("a claimed nothing")
	}
	if !e.Notification.ReceivedAt.Equal(newer.ReceivedAt) || !e.FirstAt.Equal(first.ReceivedAt) || e.Priority != 0 {
		t.Errorf("claimed %v since %v priority %d, want b's newer notification since a's first, priority 0",
			e.Notification.ReceivedAt, e.FirstAt, e.Priority)
	}
	if _, ok, _ := a.Claim(outboxtest.Channel, outboxtest.Epoch); ok {
		t.Error("a second entry for one group")
	}
}

func TestLeaseHeldByAnother(t *testing.T) {
	a, b, c := twoReplicas(t, 10*time.Second)
	ch := outboxtest.Channel
	b.enqueue(t, outboxtest.Note("A", "warning", outboxtest.Epoch))
	la := takeLease(t, a, ch)
	if _, ok, err := b.Lease(t.Context(), ch); ok || err != nil {
		t.Fatalf("b's Lease while a holds it = %v, %v; want refused", ok, err)
	}
	if e, ok, next := b.Claim(ch, outboxtest.Epoch); ok || !next.IsZero() {
		t.Errorf("b's Claim while a holds the lease = %d, %v, %v; want nothing", e.ID, ok, next)
	}
	if chs := b.Channels(); len(chs) != 0 {
		t.Errorf("b's Channels while a holds the lease of %s = %v, want none", ch, chs)
	}
	if chs := a.Channels(); len(chs) != 1 {
		t.Errorf("a's Channels = %v, want %s", chs, ch)
	}
	e, ok, _ := a.Claim(ch, outboxtest.Epoch)
	if !ok {
		t.Fatal("a claimed nothing under its lease")
	}
	// The lease record is a plain string holding the token, which the
	// group store's fenced writes compare.
	if v, err := c.Get(t.Context(), e.Fence.Key).Result(); err != nil || v != e.Fence.Token {
		t.Errorf("lease record %s = %q, %v; want the claim's token %q", e.Fence.Key, v, err, e.Fence.Token)
	}
	if err := a.Done(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(a.metrics.leasesHeld); got != 1 {
		t.Errorf("leases held by a = %v, want 1", got)
	}

	// Released, the lease is b's at once: the release wakes b, which
	// would otherwise wait for the lease's TTL before asking again.
	waitSubscribers(t, c, a.key("wake"), 2)
	if err := la.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	leaseSoon(t, b, ch)
	if got := testutil.ToFloat64(a.metrics.leasesHeld); got != 0 {
		t.Errorf("leases held by a after Release = %v, want 0", got)
	}
}

// waitSubscribers waits until channel has n subscribers.
func waitSubscribers(t *testing.T, c *redis.Client, channel string, n int64) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		m, err := c.PubSubNumSub(t.Context(), channel).Result()
		if err != nil {
			t.Fatal(err)
		}
		if m[channel] >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has %d subscribers after %v, want %d", channel, m[channel], waitFor, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestEnqueueWakesOtherReplica(t *testing.T) {
	a, b, c := twoReplicas(t, time.Second)
	waitSubscribers(t, c, a.key("wake"), 2)
	select {
	case <-b.Wake():
	default:
	}
	a.enqueue(t, outboxtest.Note("A", "warning", outboxtest.Epoch))
	select {
	case <-b.Wake():
	case <-time.After(waitFor):
		t.Fatal("b was not woken by a's enqueue")
	}
}

// TestTakeover has replica a die, leaving an entry in flight, and checks
// that b takes the channel over once a's lease expires, and that a's late
// calls change nothing.
func TestTakeover(t *testing.T) {
	const ttl = 300 * time.Millisecond
	a, b, c := twoReplicas(t, ttl)
	ch := outboxtest.Channel
	for _, g := range []string{"X", "Y"} {
		a.enqueue(t, outboxtest.Note(g, "warning", outboxtest.Epoch))
	}
	la := takeLease(t, a, ch)
	x, ok, _ := a.Claim(ch, outboxtest.Epoch)
	if !ok || x.Notification.Key != outboxtest.Key("X") {
		t.Fatalf("a claimed %v, %v; want X", x.Notification.Key, ok)
	}
	// Y, claimed and retried, shows what a lease holder's writes look like;
	// it is pending again.
	y, _, _ := a.Claim(ch, outboxtest.Epoch)
	if err := a.Retry(t.Context(), y, time.Time{}, errors.New("ratelimited")); err != nil {
		t.Fatal(err)
	}
	newer := outboxtest.Note("X", "critical", outboxtest.Epoch.Add(time.Minute))
	b.enqueue(t, newer)
	if _, ok, _ := b.Lease(t.Context(), ch); ok {
		t.Fatal("b took the lease a holds")
	}

	// a dies: nothing renews its lease, nothing releases it.
	a.stop()
	select {
	case <-la.Lost():
	default:
		t.Error("a's lease is not lost after its Run ended")
	}
	lb := leaseSoon(t, b, ch)
	if got := testutil.ToFloat64(b.metrics.takeovers); got != 1 {
		t.Errorf("takeovers = %v, want 1", got)
	}
	if got := testutil.ToFloat64(b.metrics.leaseTakeovers); got != 1 {
		t.Errorf("lease takeovers = %v, want 1: a never released the lease", got)
	}

	got := map[string]outbox.Entry{}
	for {
		e, ok, _ := b.Claim(ch, outboxtest.Epoch)
		if !ok {
			break
		}
		got[e.Notification.Key.GroupKey] = e
	}
	bx := got[outboxtest.Key("X").GroupKey]
	if len(got) != 2 || bx.ID != x.ID || !bx.Notification.ReceivedAt.Equal(newer.ReceivedAt) || bx.Attempts != 0 || bx.Priority != 0 {
		t.Fatalf("b claimed %+v; want X as entry %d with the newer notification and no attempt, and Y", got, x.ID)
	}
	if v, _ := c.Get(t.Context(), bx.Fence.Key).Result(); v != bx.Fence.Token || bx.Fence == x.Fence {
		t.Errorf("b's fence %+v, lease record %q; a's fence %+v", bx.Fence, v, x.Fence)
	}

	// a's delivery ends late: it changes nothing.
	if err := a.Done(t.Context(), x); !errors.Is(err, outbox.ErrLeaseLost) {
		t.Errorf("a's late Done = %v, want ErrLeaseLost", err)
	}
	if n, err := c.HLen(t.Context(), a.key("inflight:"+ch)).Result(); err != nil || n != 2 {
		t.Errorf("%d entries in flight after a's late Done, %v; want b's 2", n, err)
	}
	if _, ok, _ := a.Claim(ch, outboxtest.Epoch); ok {
		t.Error("a claimed after its lease was lost")
	}
	for _, e := range got {
		if err := b.Done(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	if err := lb.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	assertEmpty(t, c, b.Outbox)
}

// assertEmpty checks that o keeps nothing but its counters, and the owners
// of past leases.
func assertEmpty(t *testing.T, c *redis.Client, o *Outbox) {
	t.Helper()
	keys, err := c.Keys(t.Context(), o.prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		switch strings.TrimPrefix(k, o.prefix) {
		case "seq", "fence", "owners":
		default:
			t.Errorf("key %s left in an empty outbox", k)
		}
	}
}

func TestLeaseLost(t *testing.T) {
	a, _, c := twoReplicas(t, 300*time.Millisecond)
	l := takeLease(t, a, outboxtest.Channel)
	// Another replica took the lease over, as after a's lease expired
	// during a pause.
	if err := c.Set(t.Context(), a.leaseKey(outboxtest.Channel), "999999", 0).Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-l.Lost():
	case <-time.After(waitFor):
		t.Fatal("the lease is not lost after its record changed hands")
	}
	if got := testutil.ToFloat64(a.metrics.leasesLost); got != 1 {
		t.Errorf("leases lost = %v, want 1", got)
	}
	if got := testutil.ToFloat64(a.metrics.leasesHeld); got != 0 {
		t.Errorf("leases held = %v, want 0", got)
	}
	if err := l.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	if v, _ := c.Get(t.Context(), a.leaseKey(outboxtest.Channel)).Result(); v != "999999" {
		t.Errorf("Release of a lost lease changed the record to %q", v)
	}
}

func TestUnreachable(t *testing.T) {
	// A port nothing listens on, and a server that accepts connections
	// and never answers.
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	stalled, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stalled.Close() })
	go func() {
		for {
			conn, err := stalled.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { conn.Close() })
		}
	}()

	for name, addr := range map[string]string{"closed": closedAddr, "stalled": stalled.Addr().String()} {
		t.Run(name, func(t *testing.T) {
			// As amslack's client: every call bounded by its context.
			c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: 1})
			t.Cleanup(func() { c.Close() })
			o, err := New(c, Options{Timeout: 500 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			errs := make(chan error, 1)
			go func() { errs <- o.Enqueue(context.Background(), outboxtest.Note("A", "warning", outboxtest.Epoch)) }()
			select {
			case err := <-errs:
				if err == nil {
					t.Fatal("Enqueue to an unreachable Redis succeeded")
				}
			case <-time.After(2 * time.Second):
				t.Fatal("Enqueue to an unreachable Redis hung")
			}
			if got := testutil.ToFloat64(o.metrics.redisErrors.WithLabelValues("enqueue")); got != 1 {
				t.Errorf("enqueue errors = %v, want 1", got)
			}
		})
	}
}

func TestMinReplicasToAck(t *testing.T) {
	c := storetest.RedisClient(t)
	info, err := c.Info(t.Context(), "replication").Result()
	if err != nil {
		t.Fatal(err)
	}
	if n := connectedReplicas(info); n != 0 {
		t.Skipf("the Redis at %s has %d replicas; the test needs none", storetest.RedisAddr, n)
	}
	o := start(t, c, Options{KeyPrefix: storetest.RedisPrefix(t, c), MinReplicasToAck: 1, Timeout: 200 * time.Millisecond})
	err = o.Enqueue(t.Context(), outboxtest.Note("A", "warning", outboxtest.Epoch))
	if err == nil || !strings.Contains(err.Error(), "0 Redis replicas acknowledged the write within 200ms, 1 required") {
		t.Errorf("Enqueue without a replica = %v, want an error saying so", err)
	}
	if w, err := o.CheckDurability(t.Context()); err != nil || !strings.Contains(w, "waits for 1 Redis replicas to acknowledge each notification, but 0 are connected") {
		t.Errorf("CheckDurability = %q, %v; want a warning about replicas", w, err)
	}
}

func TestCheckDurability(t *testing.T) {
	c := storetest.RedisClient(t)
	aof, err := c.ConfigGet(t.Context(), "appendonly").Result()
	if err != nil {
		t.Fatal(err)
	}
	if aof["appendonly"] != "no" {
		t.Skipf("the Redis at %s has appendonly %s; the test needs it off", storetest.RedisAddr, aof["appendonly"])
	}
	o, err := New(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := o.CheckDurability(t.Context())
	if err != nil || !strings.Contains(w, "Redis runs with appendonly no") {
		t.Errorf("CheckDurability = %q, %v; want a warning that AOF is off", w, err)
	}
}

func TestDurabilityWarning(t *testing.T) {
	for _, tc := range []struct {
		name    string
		d       durability
		minAcks int
		want    string // in the warning; "" for none
	}{
		{"aof always", durability{"yes", "always", 0}, 0, ""},
		{"aof everysec", durability{"yes", "everysec", 0}, 0, "appendonly yes, appendfsync everysec"},
		{"no aof", durability{"no", "everysec", 2}, 0, "appendonly no"},
		{"config denied", durability{unknown, unknown, 0}, 0, "cannot read Redis's persistence settings"},
		{"replicas enough", durability{"no", "no", 2}, 2, ""},
		{"replicas too few", durability{"yes", "always", 1}, 2, "waits for 2 Redis replicas"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := durabilityWarning(tc.d, tc.minAcks)
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Errorf("warning = %q, want %q in it", got, tc.want)
			}
		})
	}
}

func TestConnectedReplicas(t *testing.T) {
	for info, want := range map[string]int{
		"# Replication\r\nrole:master\r\nconnected_slaves:2\r\nmaster_failover_state:no-failover\r\n": 2,
		"# Replication\r\nrole:master\r\n": -1,
		"connected_slaves:many\r\n":        -1,
		"role:slave\nconnected_slaves:0\n": 0,
		"":                                 -1,
		"connected_slaves:2\r\nslave0:ip=10.0.0.2,port=6379,state=online,offset=42,lag=0\r\nslave1:ip=10.0.0.3,port=6379,state=wait_bgsave,offset=0,lag=0\r\n": 1,
	} {
		if got := connectedReplicas(info); got != want {
			t.Errorf("connectedReplicas(%q) = %d, want %d", info, got, want)
		}
	}
}

func TestNewOptions(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: storetest.RedisAddr})
	t.Cleanup(func() { c.Close() })
	for name, opts := range map[string]Options{
		"short lease":       {LeaseTTL: time.Millisecond},
		"negative timeout":  {Timeout: -time.Second},
		"negative replicas": {MinReplicasToAck: -1},
	} {
		if _, err := New(c, opts); err == nil {
			t.Errorf("New with %s succeeded", name)
		}
	}
	if _, err := New(nil, Options{}); err == nil {
		t.Error("New without a client succeeded")
	}
}

func TestMetrics(t *testing.T) {
	c := storetest.RedisClient(t)
	now := outboxtest.Epoch.Add(90 * time.Second)
	o := start(t, c, Options{KeyPrefix: storetest.RedisPrefix(t, c), Options: outbox.Options{Now: func() time.Time { return now }}})
	for _, n := range []struct {
		group string
		at    time.Duration
		ch    string
	}{{"A", 0, "C1"}, {"B", time.Minute, "C1"}, {"C", time.Minute, "C2"}} {
		note := outboxtest.Note(n.group, "warning", outboxtest.Epoch.Add(n.at))
		note.Key.Channel = n.ch
		o.enqueue(t, note)
	}
	takeLease(t, o, "C2")
	e, ok, _ := o.Claim("C2", now)
	if !ok {
		t.Fatal("claimed nothing")
	}
	if err := o.DeadLetter(t.Context(), e, errors.New("channel_not_found")); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP amslack_outbox_dead_letters Entries in the dead-letter list.
# TYPE amslack_outbox_dead_letters gauge
amslack_outbox_dead_letters 1
# HELP amslack_outbox_dead_lettered_total Entries moved to the dead-letter list because they can never be delivered.
# TYPE amslack_outbox_dead_lettered_total counter
amslack_outbox_dead_lettered_total 1
# HELP amslack_outbox_leases_held Channels whose entries this replica delivers: the channel leases it holds.
# TYPE amslack_outbox_leases_held gauge
amslack_outbox_leases_held 1
# HELP amslack_outbox_oldest_pending_seconds Age of the oldest entry waiting for delivery, from the first notification it carries; 0 if none.
# TYPE amslack_outbox_oldest_pending_seconds gauge
amslack_outbox_oldest_pending_seconds 90
# HELP amslack_outbox_pending Entries waiting for delivery, in flight included, per channel.
# TYPE amslack_outbox_pending gauge
amslack_outbox_pending{channel="C1"} 2
`
	names := []string{"amslack_outbox_dead_letters", "amslack_outbox_dead_lettered_total", "amslack_outbox_leases_held",
		"amslack_outbox_oldest_pending_seconds", "amslack_outbox_pending"}
	if err := testutil.GatherAndCompare(o.reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	if n, err := testutil.GatherAndCount(o.reg, "amslack_outbox_redis_errors_total"); err != nil || n != len(ops) {
		t.Errorf("%d series of amslack_outbox_redis_errors_total, %v; want %d at zero", n, err, len(ops))
	}
}

func TestQuarantine(t *testing.T) {
	c := storetest.RedisClient(t)
	o := start(t, c, Options{KeyPrefix: storetest.RedisPrefix(t, c)})
	for _, g := range []string{"bad", "good"} {
		o.enqueue(t, outboxtest.Note(g, "warning", outboxtest.Epoch))
	}
	if err := c.HSet(t.Context(), o.key("entry:"+idString(1)), "data", `{"kind":"notify"`).Err(); err != nil {
		t.Fatal(err)
	}
	takeLease(t, o, outboxtest.Channel)
	e, ok, _ := o.Claim(outboxtest.Channel, outboxtest.Epoch)
	if !ok || e.Notification.Key != outboxtest.Key("good") {
		t.Fatalf("claimed %v, %v; want the good entry past the bad one", e.Notification.Key, ok)
	}
	if err := o.DeadLetter(t.Context(), e, errors.New("channel_not_found")); err != nil {
		t.Fatal(err)
	}
	if err := c.HSet(t.Context(), o.key("dead:rec"), idString(e.ID), "[]").Err(); err != nil {
		t.Fatal(err)
	}
	if ds, err := o.DeadLetters(t.Context()); err != nil || len(ds) != 0 {
		t.Errorf("DeadLetters = %d, %v; want none, the bad one quarantined", len(ds), err)
	}
	q, err := c.HGetAll(t.Context(), o.key("quarantine")).Result()
	if err != nil {
		t.Fatal(err)
	}
	if q["pending:"+idString(1)] != `{"kind":"notify"` || q["dead:"+idString(e.ID)] != "[]" || len(q) != 2 {
		t.Errorf("quarantine = %q", q)
	}
	for _, b := range []string{quarantinedPending, quarantinedDead} {
		if got := testutil.ToFloat64(o.metrics.quarantined.WithLabelValues(b)); got != 1 {
			t.Errorf("quarantined from %s = %v, want 1", b, got)
		}
	}
	if chs := o.Channels(); len(chs) != 0 {
		t.Errorf("Channels = %v after quarantining and dead-lettering everything", chs)
	}
}

func TestNextScore(t *testing.T) {
	at := time.Unix(1000, 1500)
	if s := nextScore(at); s != 1000*1e6+2 {
		t.Errorf("nextScore rounds %v to %d", at, s)
	}
	if s := nextScore(time.Unix(1000, 2000)); s != 1000*1e6+2 {
		t.Errorf("nextScore of a whole µs = %d", s)
	}
	if s := nextScore(time.Time{}); s != 0 {
		t.Errorf("nextScore of no time = %d", s)
	}
	for _, tm := range []time.Time{{}, at} {
		got, err := parseNanos(strconv.FormatInt(nanos(tm), 10))
		if err != nil || !got.Equal(tm) {
			t.Errorf("parseNanos(nanos(%v)) = %v, %v", tm, got, err)
		}
	}
}

// TestReleaseAfterRunEnds checks that a lease whose renewals stopped with
// Run, as on shutdown, is handed over at once by its holder's Release.
func TestReleaseAfterRunEnds(t *testing.T) {
	a, b, c := twoReplicas(t, 10*time.Second)
	l := takeLease(t, a, outboxtest.Channel)
	a.stop()
	select {
	case <-l.Lost():
	default:
		t.Fatal("the lease is not lost after Run ended")
	}
	if err := l.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Exists(t.Context(), a.leaseKey(outboxtest.Channel)).Result(); err != nil || n != 0 {
		t.Errorf("lease record exists = %d, %v after Release", n, err)
	}
	takeLease(t, b, outboxtest.Channel)
	if err := l.Release(t.Context()); err != nil {
		t.Errorf("second Release: %v", err)
	}
	if n, _ := c.Exists(t.Context(), a.leaseKey(outboxtest.Channel)).Result(); n != 1 {
		t.Error("a's second Release deleted b's lease")
	}
}

// TestReleasedLeaseIsNoTakeover: a lease that its holder released passes
// to the next replica without counting as a takeover.
func TestReleasedLeaseIsNoTakeover(t *testing.T) {
	a, b, _ := twoReplicas(t, 10*time.Second)
	ch := outboxtest.Channel
	a.enqueue(t, outboxtest.Note("A", "warning", outboxtest.Epoch))
	la := takeLease(t, a, ch)
	if err := la.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	takeLease(t, b, ch)
	if got := testutil.ToFloat64(b.metrics.leaseTakeovers); got != 0 {
		t.Errorf("lease takeovers = %v after a released the lease, want 0", got)
	}
}

// TestLastEntryInFlightIsTakenOver: a replica dies with its channel's only
// entry in flight. Nothing is queued for the channel, yet the other
// replica lists it, takes the lease once it runs out, and gets the entry.
func TestLastEntryInFlightIsTakenOver(t *testing.T) {
	const ttl = 300 * time.Millisecond
	a, b, _ := twoReplicas(t, ttl)
	ch := outboxtest.Channel
	a.enqueue(t, outboxtest.Note("Last", "warning", outboxtest.Epoch))
	takeLease(t, a, ch)
	if _, ok, _ := a.Claim(ch, outboxtest.Epoch); !ok {
		t.Fatal("a claimed nothing")
	}
	a.stop()

	deadline := time.After(waitFor)
	for {
		if slices.Contains(b.Channels(), ch) {
			if _, ok, err := b.Lease(t.Context(), ch); err != nil {
				t.Fatal(err)
			} else if ok {
				break
			}
		}
		select {
		case <-b.Wake():
		case <-time.After(ttl / 3):
		case <-deadline:
			t.Fatalf("b never took over %s, whose only entry a left in flight", ch)
		}
	}
	e, ok, _ := b.Claim(ch, outboxtest.Epoch)
	if !ok || e.Notification.Key != outboxtest.Key("Last") {
		t.Fatalf("b claimed %v, %v; want the entry a left in flight", e.Notification.Key, ok)
	}
	if err := b.Done(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	// Drained: the channel is listed no more.
	if chs := b.Channels(); slices.Contains(chs, ch) {
		t.Errorf("b lists %s after its last entry was delivered: %v", ch, chs)
	}
}

// TestMinReplicasToAckWithAReplica: with a Redis replica connected, an
// enqueue waits for it and succeeds, and the start-up check finds nothing
// to warn about; once the replica is gone, enqueues fail rather than claim
// a durability they lack.
func TestMinReplicasToAckWithAReplica(t *testing.T) {
	primary := storetest.StartRedis(t, false)
	host, port, _ := net.SplitHostPort(primary.Addr)
	replica := storetest.StartRedis(t, false, "--replicaof", host, port)
	c := redis.NewClient(&redis.Options{Addr: primary.Addr})
	t.Cleanup(func() { c.Close() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := c.Info(t.Context(), "replication").Result()
		if err == nil && connectedReplicas(info) == 1 {
			break
		}
		// Redis syncs a new replica after repl-diskless-sync-delay, 5s
		// by default.
		if time.Now().After(deadline) {
			t.Fatalf("the replica was not online within 10s: %v\n%s", err, replica.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	o := start(t, c, Options{KeyPrefix: "amslack:", MinReplicasToAck: 1, Timeout: 500 * time.Millisecond})
	if w, err := o.CheckDurability(t.Context()); err != nil || w != "" {
		t.Errorf("CheckDurability with the replica = %q, %v; want no warning", w, err)
	}
	if err := o.Enqueue(t.Context(), outboxtest.Note("A", "warning", outboxtest.Epoch)); err != nil {
		t.Fatalf("Enqueue with the replica connected: %v", err)
	}
	replica.Kill()
	err := o.Enqueue(t.Context(), outboxtest.Note("B", "warning", outboxtest.Epoch))
	if err == nil || !strings.Contains(err.Error(), "1 required") {
		t.Errorf("Enqueue after the replica died = %v, want an error saying 1 is required", err)
	}
}
