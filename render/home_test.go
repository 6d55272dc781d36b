package render

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/amslack/amslack/receiver/alertgroup"
)

var homeAlice = alertgroup.User{ID: "U0001ALICE", Name: "alice"}

// testHome is alice's Home with two firing groups of two severities, her
// silence of one of them, her silence of one alert and her acknowledgement,
// and a silence ending within the hour.
func testHome(t testing.TB) Home {
	disk := digestGroup(t, "v035-firing.json", "DiskFull", 3*time.Hour)
	disk.State.Silenced = &alertgroup.Mark{By: homeAlice, At: testNow().Add(-time.Hour), Until: testNow().Add(3 * time.Hour), SilenceID: "s-group"}
	disk.State.SilencedAlerts = map[string]alertgroup.Mark{
		"211c19acb3be2082": {By: homeAlice, At: testNow(), Until: testNow().Add(time.Hour), SilenceID: "s-alert"},
	}
	latency := digestGroup(t, "v025-firing.json", "<!channel> Latency", 20*time.Minute)
	ld := *latency.Message.Data
	ld.CommonLabels = map[string]string{"severity": "warning"}
	latency.Message = &alertgroup.Message{Data: &ld, GroupKey: latency.Message.GroupKey}
	latency.State.Acked = &alertgroup.Mark{By: homeAlice, At: testNow().Add(-10 * time.Minute)}
	dDisk := DigestGroup{Group: disk, Link: "https://acme.slack.com/archives/C0001ALERTS/p1764425522000100"}
	dLatency := DigestGroup{Group: latency, Link: "https://acme.slack.com/archives/C0001ALERTS/p1764425522000200"}
	expire := func(id string) *Control {
		return &Control{ActionID: "silence_expire", Text: "Expire", Value: id, Style: "danger",
			Confirm: &Confirm{Title: "Expire the silence?", Text: "Its alerts notify again while they fire.", Confirm: "Expire", Deny: "Keep it"}}
	}
	return Home{
		Firing: []DigestGroup{dLatency, dDisk},
		Marks: []HomeMark{
			{Kind: HomeAck, Group: dLatency, Mark: *latency.State.Acked},
			{Kind: HomeSilence, Group: dDisk, Mark: *disk.State.Silenced, Control: expire("s-group")},
			{Kind: HomeAlertSilence, Group: dDisk, Mark: disk.State.SilencedAlerts["211c19acb3be2082"], Alert: "instance=db-2", Control: expire("s-alert")},
		},
		Ending: []DigestSilence{{
			ID: "s-ui", Matchers: `alertname="DiskFull"`, CreatedBy: "bob", EndsAt: testNow().Add(40 * time.Minute),
			Covers: disk, Link: dDisk.Link,
		}},
		Notice: "Silence s-old expired.",
		Now:    testNow(),
	}
}

// homeJSON is v as views.publish sends it, indented for golden files.
func homeJSON(t testing.TB, v slack.HomeTabViewRequest) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(unescapeHTML(b), '\n')
}

// checkHomeLimits checks v against the limits of a Home view: at most
// 100 blocks, unique block ids, and each block within Block Kit's limits.
func checkHomeLimits(t *testing.T, v slack.HomeTabViewRequest) {
	t.Helper()
	if v.Type != slack.VTHomeTab {
		t.Errorf("type = %q", v.Type)
	}
	blocks := v.Blocks.BlockSet
	if len(blocks) > maxHomeBlocks {
		t.Errorf("%d blocks, Slack allows %d", len(blocks), maxHomeBlocks)
	}
	ids := map[string]bool{}
	for i, b := range blocks {
		if id := b.ID(); id != "" {
			if ids[id] {
				t.Errorf("blocks[%d]: block_id %q repeats", i, id)
			}
			ids[id] = true
		}
		if err := Validate(Message{Text: "home", Blocks: slack.Blocks{BlockSet: []slack.Block{b}}}); err != nil {
			t.Errorf("blocks[%d]: %v", i, err)
		}
	}
}

func TestHomeGolden(t *testing.T) {
	v := HomeView(testHome(t))
	checkHomeLimits(t, v)
	checkGolden(t, "home", homeJSON(t, v))

	empty := HomeView(Home{EndingUnknown: true, Now: testNow()})
	checkHomeLimits(t, empty)
	checkGolden(t, "home-empty", homeJSON(t, empty))
}

// TestHomeOrder checks that firing groups come most severe first and marks
// soonest to end first, those without an end last.
func TestHomeOrder(t *testing.T) {
	text := string(homeJSON(t, HomeView(testHome(t))))
	order := []string{"critical", "warning", "You silenced one alert", "You silenced *DiskFull*", "You acknowledged"}
	last := -1
	for _, s := range order {
		i := strings.Index(text, s)
		if i < 0 || i < last {
			t.Fatalf("%q is missing or out of order in\n%s", s, text)
		}
		last = i
	}
	if strings.Contains(text, "<!channel>") {
		t.Error("a group name's <!channel> is not escaped")
	}
}

// TestHomeLimits fills every list far beyond what fits: the view stays
// within 100 blocks and says how many it leaves out.
func TestHomeLimits(t *testing.T) {
	base := digestGroup(t, "v035-firing.json", "DiskFull", time.Hour)
	var h Home
	for i := range 400 {
		g := base
		d := *g.Message.Data
		d.CommonLabels = map[string]string{"severity": fmt.Sprintf("sev%02d", i%20)}
		d.GroupLabels = map[string]string{"alertname": strings.Repeat("N", 70) + fmt.Sprint(i)}
		g.Message = &alertgroup.Message{Data: &d}
		dg := DigestGroup{Group: g, Link: "https://acme.slack.com/archives/C0001ALERTS/p1764425522000100"}
		h.Firing = append(h.Firing, dg)
		h.Marks = append(h.Marks, HomeMark{Kind: HomeSilence, Group: dg, Mark: alertgroup.Mark{Until: testNow().Add(time.Duration(i) * time.Minute)},
			Control: &Control{ActionID: "silence_expire", Text: "Expire", Value: fmt.Sprint(i)}})
		h.Ending = append(h.Ending, DigestSilence{ID: fmt.Sprint(i), Matchers: strings.Repeat("m", 200), EndsAt: testNow()})
	}
	h.Notice = strings.Repeat("n", 5000)
	v := HomeView(h)
	checkHomeLimits(t, v)
	text := string(homeJSON(t, v))
	for _, want := range []string{"*Other severities*", "…and 360 more", "more"} {
		if !strings.Contains(text, want) {
			t.Errorf("view lacks %q", want)
		}
	}
}
