package interact

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/slack-go/slack"

	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/receiver/slackapi/slackfake"
	"github.com/amslack/amslack/render"
)

const (
	aliceID = "U0001ALICE"
	bobID   = "U0002BOB"
)

// listingAM is a fakeAM that lists silences too.
type listingAM struct {
	*fakeAM
	mu       sync.Mutex
	silences []amclient.ListedSilence
}

func (l *listingAM) ListSilences(context.Context) ([]amclient.ListedSilence, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.silences), nil
}

// homeEnv is a running Handler whose Slack is the fake, with two groups in
// the store: DiskFull, which alice silenced, and Latency, which bob
// acknowledged with a silence.
type homeEnv struct {
	h      *Handler
	slack  *slackServer
	store  Groups
	am     *listingAM
	notes  *escalationRefresher
	clock  *testClock
	start  time.Time
	latKey alertgroup.Key
}

func newHomeEnv(t *testing.T) *homeEnv {
	t.Helper()
	start := time.Date(2026, 11, 29, 14, 0, 0, 0, time.UTC)
	e := &homeEnv{
		slack: newSlackServer(t), store: openStore(t), notes: &escalationRefresher{},
		clock: &testClock{t: start}, start: start,
		am: &listingAM{fakeAM: &fakeAM{}, silences: []amclient.ListedSilence{
			{ID: "s-carol", Matchers: []amclient.Matcher{{Name: "alertname", Value: "DiskFull", IsEqual: true}},
				StartsAt: start.Add(-time.Hour), EndsAt: start.Add(40 * time.Minute), CreatedBy: "carol", State: amclient.SilenceActive},
			{ID: "s-later", Matchers: []amclient.Matcher{{Name: "alertname", Value: "Other", IsEqual: true}},
				StartsAt: start, EndsAt: start.Add(3 * time.Hour), CreatedBy: "dave", State: amclient.SilenceActive},
		}},
	}
	seedGroup(t, e.store, func(g *alertgroup.Group) {
		g.State.Silenced = &alertgroup.Mark{By: alertgroup.User{ID: aliceID, Name: "alice"}, At: start, Until: start.Add(2 * time.Hour), SilenceID: "s-alice"}
	})
	m := loadMessage(t)
	m.GroupKey = `{}:{alertname="Latency"}`
	m.GroupLabels = map[string]string{"alertname": "Latency"}
	e.latKey = alertgroup.Key{Receiver: m.Receiver, GroupKey: m.GroupKey, Channel: testChannel}
	_, err := e.store.Update(t.Context(), e.latKey, func(g *alertgroup.Group, _ bool) error {
		g.Route, g.TS, g.Status, g.Message = "default", "1764425522.000200", alertgroup.StatusFiring, m
		g.FirstAt, g.UpdatedAt = start.Add(-time.Hour), start
		g.State.Acked = &alertgroup.Mark{By: alertgroup.User{ID: bobID, Name: "bob"}, At: start, Until: start.Add(15 * time.Minute), SilenceID: "s-bob-ack"}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e.h, err = New(Options{
		SigningSecret: testSecret, Groups: e.store, Refresher: e.notes, Silences: e.am, Slack: e.slack.api, Now: e.clock.Now,
		Registerer: prometheus.NewRegistry(), HomeRefresh: 30 * time.Second,
		SilenceFollowInterval: -1, ReconcileInterval: -1, AckReminderInterval: -1,
		MessageLink: func(channel, ts string) string {
			return "https://acme.slack.com/archives/" + channel + "/p" + strings.ReplaceAll(ts, ".", "")
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.h.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v", err)
		}
	})
	return e
}

// open delivers app_home_opened for user as event eventID and waits until
// the handler has answered it.
func (e *homeEnv) open(t *testing.T, user, eventID string) {
	t.Helper()
	before := e.handled(t)
	body := eventBody(t, "event-app-home-opened.json", func(ev map[string]any) {
		ev["event_id"] = eventID
		ev["event"].(map[string]any)["user"] = user
	})
	r := signedPost(t, "/slack/events", body, time.Now(), testSecret)
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	e.h.ServeEvents(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("ServeEvents = %d %s", w.Code, w.Body)
	}
	eventually(t, "App Home opened by "+user, func() bool { return e.handled(t) > before })
}

// eventually polls cond until it holds, for at most 10 seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// handled counts the app_home_opened events answered.
func (e *homeEnv) handled(t *testing.T) float64 {
	t.Helper()
	return testutil.ToFloat64(e.h.smetrics.events.WithLabelValues(eventAppHomeOpened, eventHandled)) +
		testutil.ToFloat64(e.h.smetrics.events.WithLabelValues(eventAppHomeOpened, eventFailed))
}

// home returns user's Home as last published, in JSON without the
// escapes of <, > and & that encoding/json adds.
func (e *homeEnv) home(t *testing.T, user string) string {
	t.Helper()
	v, ok := e.slack.fake.Home(user)
	if !ok {
		t.Fatalf("no Home published for %s", user)
	}
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(v.Raw))
}

// homeClick clicks Expire on the Home of user, for the silence id.
func (e *homeEnv) homeClick(t *testing.T, user, id string) {
	t.Helper()
	b, err := os.ReadFile("testdata/block-actions-home.json")
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(strings.NewReplacer(`"value": "REF"`, `"value": "`+id+`"`, aliceID, user).Replace(string(b)))
	var cb slack.InteractionCallback
	if err := json.Unmarshal(b, &cb); err != nil {
		t.Fatal(err)
	}
	if r := e.h.Dispatch(t.Context(), cb); r != nil {
		t.Fatalf("Dispatch = %+v", r)
	}
}

// publishes counts the views.publish calls that Slack accepted.
func (e *homeEnv) publishes() int {
	return len(slices.DeleteFunc(e.slack.fake.Requests(), func(r slackfake.Request) bool {
		return r.Method != slackfake.MethodPublishView || r.Error != ""
	}))
}

// TestHomeForAliceAndBob checks that each user's Home lists the firing
// groups and the silences ending within the hour for everyone, and only
// their own silences and acknowledgements, each with Expire.
func TestHomeForAliceAndBob(t *testing.T) {
	e := newHomeEnv(t)
	e.open(t, aliceID, "EvA1")
	e.open(t, bobID, "EvB1")
	alice, bob := e.home(t, aliceID), e.home(t, bobID)
	for user, text := range map[string]string{"alice": alice, "bob": bob} {
		for _, want := range []string{
			"🔥 Firing (2)", "*DiskFull*", "*Latency*", "/archives/C0001ALERTS/p1764425522000100|message>",
			"⏳ Silences ending in the next hour (1)", "`alertname=\\\"DiskFull\\\"`", "by carol",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("%s's Home lacks %q:\n%s", user, want, text)
			}
		}
		if strings.Contains(text, "dave") {
			t.Errorf("%s's Home lists a silence that ends in 3h", user)
		}
	}
	for _, c := range []struct {
		user, text, want, other string
	}{
		{"alice", alice, `You silenced *DiskFull*`, `"value":"s-bob-ack"`},
		{"bob", bob, `You acknowledged *Latency*`, `"value":"s-alice"`},
	} {
		if !strings.Contains(c.text, "Your silences and acknowledgements (1)") || !strings.Contains(c.text, c.want) {
			t.Errorf("%s's Home lacks their own mark %q:\n%s", c.user, c.want, c.text)
		}
		if strings.Contains(c.text, c.other) {
			t.Errorf("%s's Home shows the other user's mark %s", c.user, c.other)
		}
	}
	if !strings.Contains(alice, `"action_id":"silence_expire"`) || !strings.Contains(alice, `"value":"s-alice"`) ||
		!strings.Contains(bob, `"value":"s-bob-ack"`) {
		t.Error("a mark lacks its Expire button")
	}

	// Opening Home again with nothing changed publishes nothing.
	n := e.publishes()
	e.open(t, aliceID, "EvA2")
	if got := e.publishes(); got != n {
		t.Errorf("views.publish calls = %d after an unchanged open, want %d", got, n)
	}
	if got := testutil.ToFloat64(e.h.hmetrics.publishes.WithLabelValues(homeUnchanged)); got != 1 {
		t.Errorf("amslack_home_publishes_total{result=unchanged} = %v, want 1", got)
	}
}

// TestHomeExpire clicks Expire on alice's Home: Alertmanager expires her
// silence, the group's thread says so, and her Home shows the outcome.
func TestHomeExpire(t *testing.T) {
	e := newHomeEnv(t)
	e.open(t, aliceID, "EvA1")
	e.homeClick(t, aliceID, "s-alice")
	e.slack.waitFor(t, "Home with the outcome", func() bool {
		v, ok := e.slack.fake.Home(aliceID)
		return ok && strings.Contains(string(v.Raw), "Silence s-alice expired.")
	})
	if home := e.home(t, aliceID); strings.Contains(home, `"value":"s-alice"`) || !strings.Contains(home, "Your silences and acknowledgements (0)") {
		t.Errorf("alice's Home still lists the silence:\n%s", home)
	}
	e.am.mu.Lock()
	expired := slices.Clone(e.am.expired)
	e.am.mu.Unlock()
	if !slices.Equal(expired, []string{"s-alice"}) {
		t.Errorf("expired silences = %v", expired)
	}
	g := getGroup(t, e.store)
	if g.State.Silenced != nil {
		t.Errorf("still silenced: %+v", g.State.Silenced)
	}
	if notes := e.notes.take(); !slices.Equal(notes, []string{render.SilenceExpiredByNote(alertgroup.User{ID: aliceID, Name: "alice"})}) {
		t.Errorf("thread notes = %q", notes)
	}

	// Bob cannot expire a silence that no group follows.
	e.homeClick(t, bobID, "s-nowhere")
	e.slack.waitFor(t, "bob's Home with the refusal", func() bool {
		v, ok := e.slack.fake.Home(bobID)
		return ok && strings.Contains(string(v.Raw), "no longer finds that silence")
	})
}

// TestHomeRefresh checks that a change reaches the Home of a user who
// opened it recently, at most once per refresh period, and not the Home of
// one who opened it long ago.
func TestHomeRefresh(t *testing.T) {
	e := newHomeEnv(t)
	e.open(t, bobID, "EvB1")
	unack := func() {
		t.Helper()
		_, err := e.store.Update(t.Context(), e.latKey, func(g *alertgroup.Group, _ bool) error {
			g.State.Acked = nil
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	refresh := func(after time.Duration) {
		t.Helper()
		setClock(e.clock, e.start.Add(after))
		if err := e.h.RefreshHomes(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	n := e.publishes()
	unack()
	refresh(10 * time.Second)
	if e.publishes() != n || !strings.Contains(e.home(t, bobID), "You acknowledged") {
		t.Fatal("Home refreshed within 30s of the last publish")
	}
	refresh(31 * time.Second)
	if e.publishes() != n+1 || strings.Contains(e.home(t, bobID), "You acknowledged") {
		t.Fatalf("Home not refreshed after 30s: %d publishes, want %d", e.publishes(), n+1)
	}
	refresh(70 * time.Second)
	if e.publishes() != n+1 {
		t.Error("an unchanged Home was published again")
	}

	// Bob opened Home more than 15 minutes ago: a change stays off it.
	_, err := e.store.Update(t.Context(), e.latKey, func(g *alertgroup.Group, _ bool) error {
		g.State.Acked = &alertgroup.Mark{By: alertgroup.User{ID: bobID}, At: e.start}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	refresh(homeRecent + time.Minute)
	if e.publishes() != n+1 {
		t.Error("the Home of a user who left it long ago was refreshed")
	}
}
