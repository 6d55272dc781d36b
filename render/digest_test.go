package render

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// digestGroup is a stored group of the fixture name, posted firstAgo before
// testNow, with its group labels' alertname set to alertname.
func digestGroup(t testing.TB, name, alertname string, firstAgo time.Duration) alertgroup.Group {
	t.Helper()
	p := loadPayload(t, name)
	d := *p.Data
	d.GroupLabels = template.KV{"alertname": alertname}
	status := d.Status
	g := alertgroup.Group{
		Key:     alertgroup.Key{Receiver: d.Receiver, GroupKey: `{}:{alertname="` + alertname + `"}`, Channel: "C0001ALERTS"},
		Route:   "team-db",
		TS:      "1764425522.000100",
		Status:  status,
		Message: &alertgroup.Message{Data: &d, GroupKey: p.GroupKey},
		FirstAt: testNow().Add(-firstAgo),
	}
	if status == alertgroup.StatusResolved {
		g.ResolvedAt = testNow().Add(-time.Hour)
	}
	return g
}

// testDigest lists two firing groups (one acknowledged), a resolved one and
// a silence ending before the next digest.
func testDigest(t testing.TB) Digest {
	acked := digestGroup(t, "v035-firing.json", "DiskFull", 3*time.Hour+5*time.Minute)
	acked.State.Acked = &alertgroup.Mark{By: alertgroup.User{ID: "U0002BOB", Name: "bob"}, At: testNow().Add(-2 * time.Hour)}
	open := digestGroup(t, "v025-firing.json", "<!channel> Latency & more", 20*time.Minute)
	resolved := digestGroup(t, "v035-resolved.json", "CertExpiry", 5*time.Hour)
	since := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	return Digest{
		Firing: []DigestGroup{
			{Group: open, Link: "https://acme.slack.com/archives/C0001ALERTS/p1764425522000200"},
			{Group: acked, Link: "https://acme.slack.com/archives/C0001ALERTS/p1764425522000100"},
		},
		Resolved: []DigestGroup{{Group: resolved, Link: "https://acme.slack.com/archives/C0001ALERTS/p1764425522000300"}},
		Silences: []DigestSilence{{
			ID: "5b1c6f0e", Matchers: `alertname="DiskFull", cluster=~"prod|stag` + "`" + `ing"`, CreatedBy: "slack:alice (U0001ALICE)",
			EndsAt: testNow().Add(4 * time.Hour), Covers: acked, Link: "https://acme.slack.com/archives/C0001ALERTS/p1764425522000100",
		}},
		Since: since,
		Next:  since.Add(48 * time.Hour),
		Now:   testNow(),
	}
}

func TestDigestGolden(t *testing.T) {
	empty := Digest{Now: testNow()}
	unknown := testDigest(t)
	unknown.Silences, unknown.SilencesUnknown = nil, true
	for name, d := range map[string]Digest{
		"digest":                  testDigest(t),
		"digest-silences-unknown": unknown,
		"digest-empty":            empty,
	} {
		t.Run(name, func(t *testing.T) {
			m := DigestMessage(d)
			if err := Validate(m); err != nil {
				t.Errorf("Validate: %v", err)
			}
			checkGolden(t, name, marshal(t, m))
		})
	}
}

func TestDigestEmpty(t *testing.T) {
	d := testDigest(t)
	if d.Empty() {
		t.Error("Empty() = true for a digest that lists groups")
	}
	if !(Digest{SilencesUnknown: true, Now: testNow()}).Empty() {
		t.Error("Empty() = false for a digest that lists nothing")
	}
}

// TestDigestLong checks that a digest of many long groups stays within
// Slack's limits and says how many it left out.
func TestDigestLong(t *testing.T) {
	var d Digest
	d.Now = testNow()
	base := digestGroup(t, "v035-firing.json", "x", time.Hour)
	for i := range 500 {
		g := base
		data := *base.Message.Data
		data.GroupLabels = template.KV{"alertname": fmt.Sprintf("Alert%03d%s", i, strings.Repeat("é", 120)), "instance": strings.Repeat("i", 200)}
		g.Message = &alertgroup.Message{Data: &data}
		d.Firing = append(d.Firing, DigestGroup{Group: g, Link: "https://acme.slack.com/archives/C0001ALERTS/p1"})
		d.Resolved = append(d.Resolved, DigestGroup{Group: g})
		d.Silences = append(d.Silences, DigestSilence{Matchers: strings.Repeat(`a="b", `, 100), EndsAt: d.Now.Add(time.Hour), Covers: g})
	}
	m := DigestMessage(d)
	if err := Validate(m); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	for _, id := range []string{blockDigestFiring, blockDigestResolved, blockDigestSilences} {
		text := sectionText(t, m, id)
		if !strings.Contains(text, " more") || !strings.Contains(text, "…and ") {
			t.Errorf("%s does not end in …and N more: %q", id, text[max(0, len(text)-80):])
		}
	}
	if !strings.HasPrefix(headerText(t, m), "Alert digest: 500 firing, 500 resolved, 500 silences ending") {
		t.Errorf("header = %q", headerText(t, m))
	}
}

// TestDigestLinks checks that only web URLs become links.
func TestDigestLinks(t *testing.T) {
	d := testDigest(t)
	d.Firing = d.Firing[:1]
	d.Firing[0].Link = "javascript:alert(1)"
	d.Resolved, d.Silences = nil, nil
	if text := sectionText(t, DigestMessage(d), blockDigestFiring); strings.Contains(text, "javascript") || strings.Contains(text, "|message>") {
		t.Errorf("a javascript: link was linked: %q", text)
	}
}
