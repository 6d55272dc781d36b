package preview

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/alertmanager/template"
	"github.com/slack-go/slack"

	"github.com/amslack/amslack/cmd/internal/preview/browsertest"
	"github.com/amslack/amslack/interact"
	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/receiver/slackapi/slackfake"
	"github.com/amslack/amslack/render"
)

// demoApp stands in for amslack behind the preview: its webhook renders
// alert groups with the real renderer and posts them to the fake Slack; its
// interaction handler checks signatures and, as amslack does, updates the
// message through the Web API, adds a thread reply, answers through the
// response_url and opens the custom silence modal.
type demoApp struct {
	t   *testing.T
	api *slack.Client

	// mu guards everything below.
	mu            sync.Mutex
	groups        map[string]*demoGroup // by message ts
	clicks        []slack.InteractionCallback
	badSignatures int
}

type demoGroup struct {
	data     *template.Data
	groupKey string
	state    alertgroup.State
}

func (a *demoApp) options() render.Options {
	return render.Options{
		SilenceDurations: []time.Duration{30 * time.Minute, time.Hour, 4 * time.Hour},
		Mentions:         map[string]string{"critical": "<!here>"},
		Actions: []render.Action{{
			ID: "approve_restart", Label: "Approve restart", Style: "danger", Approvals: 2,
			Confirm: &render.Confirm{Title: "Restart the database?", Text: "This restarts the primary.", Confirm: "Restart", Deny: "Cancel"},
		}},
	}
}

// message renders g, with the "Custom…" silence option that opens a modal.
func (a *demoApp) message(g *demoGroup) render.Message {
	opts := a.options()
	m := render.Render(render.Input{Group: g.data, GroupKey: g.groupKey, State: g.state, Options: opts, Controls: interact.Controls(g.state, opts), Now: time.Now()})
	for _, b := range m.Blocks.BlockSet {
		ab, ok := b.(*slack.ActionBlock)
		if !ok || ab.Elements == nil {
			continue
		}
		for _, e := range ab.Elements.ElementSet {
			if s, ok := e.(*slack.SelectBlockElement); ok && s.ActionID == interact.ActionSilence {
				s.Options = append(s.Options, slack.NewOptionBlockObject("custom",
					slack.NewTextBlockObject(slack.PlainTextType, "Custom…", false, false), nil))
			}
		}
	}
	return m
}

func (a *demoApp) webhook(w http.ResponseWriter, r *http.Request) {
	var payload struct {
		*template.Data
		GroupKey string `json:"groupKey"`
	}
	if err := json.NewDecoder(r.Body).Decode(&payload); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	g := &demoGroup{data: payload.Data, groupKey: payload.GroupKey}
	m := a.message(g)
	_, ts, err := a.api.PostMessage(testChannel, slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks.BlockSet...))
	if err != nil {
		a.t.Errorf("chat.postMessage: %v", err)
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	a.mu.Lock()
	a.groups[ts] = g
	a.mu.Unlock()
}

func (a *demoApp) interactions(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	sv, err := slack.NewSecretsVerifier(r.Header, testSecret)
	if err == nil {
		_, _ = sv.Write(body)
		err = sv.Ensure()
	}
	if err != nil {
		a.mu.Lock()
		a.badSignatures++
		a.mu.Unlock()
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	form, _ := url.ParseQuery(string(body))
	var cb slack.InteractionCallback
	if err := json.Unmarshal([]byte(form.Get("payload")), &cb); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	a.clicks = append(a.clicks, cb)
	a.mu.Unlock()

	user := alertgroup.User{ID: cb.User.ID, Name: cb.User.Name}
	switch cb.Type {
	case slack.InteractionTypeBlockActions:
		act := cb.ActionCallback.BlockActions[0]
		ts := cb.Container.MessageTs
		switch {
		case act.ActionID == interact.ActionSilence && act.SelectedOption.Value == "custom":
			if _, err := a.api.OpenView(cb.TriggerID, testModal(ts, false)); err != nil {
				a.t.Errorf("views.open: %v", err)
			}
		case act.ActionID == interact.ActionSilence:
			a.silence(ts, user, act.SelectedOption.Value, cb.ResponseURL)
		case act.ActionID == "approve_restart":
			a.update(ts, func(st *alertgroup.State) {
				if st.Approvals == nil {
					st.Approvals = map[string][]alertgroup.User{}
				}
				st.Approvals["approve_restart"] = append(st.Approvals["approve_restart"], user)
			})
		}
	case slack.InteractionTypeViewSubmission:
		d := cb.View.State.Values["duration"]["duration"].Value
		a.silence(cb.View.PrivateMetadata, user, d, "")
	}
	w.WriteHeader(http.StatusOK)
}

func (a *demoApp) silence(ts string, user alertgroup.User, value, responseURL string) {
	d, err := time.ParseDuration(value)
	if err != nil {
		a.t.Errorf("silence duration %q: %v", value, err)
		return
	}
	now := time.Now()
	a.update(ts, func(st *alertgroup.State) {
		st.Silenced = &alertgroup.Mark{By: user, At: now, Until: now.Add(d)}
	})
	if _, _, err := a.api.PostMessage(testChannel, slack.MsgOptionTS(ts),
		slack.MsgOptionText(fmt.Sprintf("🔕 Silenced for %s by <@%s>", value, user.ID), false)); err != nil {
		a.t.Errorf("thread reply: %v", err)
	}
	if responseURL != "" {
		resp, err := http.Post(responseURL, "application/json",
			strings.NewReader(fmt.Sprintf(`{"text":"Silenced for %s, until %s (silence 4a7c1e).","replace_original":false}`, value, now.Add(d).UTC().Format("15:04 MST"))))
		if err != nil {
			a.t.Errorf("response_url: %v", err)
			return
		}
		resp.Body.Close()
	}
}

func (a *demoApp) update(ts string, change func(*alertgroup.State)) {
	a.mu.Lock()
	g := a.groups[ts]
	if g != nil {
		change(&g.state)
	}
	a.mu.Unlock()
	if g == nil {
		a.t.Errorf("click on unknown message %s", ts)
		return
	}
	m := a.message(g)
	if _, _, _, err := a.api.UpdateMessage(testChannel, ts, slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks.BlockSet...)); err != nil {
		a.t.Errorf("chat.update: %v", err)
	}
}

func (a *demoApp) received() ([]slack.InteractionCallback, int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]slack.InteractionCallback(nil), a.clicks...), a.badSignatures
}

func TestBrowser(t *testing.T) {
	ctx := browsertest.Start(t)

	fake := slackfake.New(slackfake.Options{})
	fakeSrv := httptest.NewServer(fake)
	t.Cleanup(fakeSrv.Close)
	app := &demoApp{t: t, api: slack.New("xoxb-test", slack.OptionAPIURL(fake.APIURL(fakeSrv.URL))), groups: map[string]*demoGroup{}}
	h := New(Options{
		Fake: fake, BaseURL: fakeSrv.URL, SigningSecret: testSecret,
		Interactions: http.HandlerFunc(app.interactions), Webhook: http.HandlerFunc(app.webhook),
		Examples: map[string][]byte{
			"v035-firing":   readFile(t, "v035-firing.json"),
			"v025-firing":   readFile(t, "v025-firing.json"),
			"v035-resolved": readFile(t, "v035-resolved.json"),
		},
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close)

	// Start the browser and collect the page's uncaught exceptions.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	exceptions := browsertest.Exceptions(ctx)

	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	// choose picks an option of a select as a person does: the value
	// changes and a change event fires.
	choose := func(sel, value string) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
			`(() => { const s = document.querySelector(%q); s.value = %q; s.dispatchEvent(new Event("change", {bubbles: true})); })()`, sel, value))
	}
	waitFor := func(step, predicate string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](predicate, chromedp.WithPollingTimeout(60*time.Second))); err != nil {
			got, _ := app.received()
			status, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("[data-role=status]").textContent`))
			t.Fatalf("%s: %v (page status %q, %d interactions received)", step, err, status, len(got))
		}
	}
	screenshot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		path := filepath.Join(browsertest.ArtifactDir(t), name)
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}
	clicks := func() []slack.InteractionCallback {
		t.Helper()
		got, bad := app.received()
		if bad > 0 {
			t.Errorf("%d interaction requests had a bad signature", bad)
		}
		return got
	}

	do("open the page",
		chromedp.Navigate(srv.URL+"/preview?user="+alice),
		chromedp.WaitVisible(chromedp.CSS(`[data-example="v035-firing"] [data-role=send-example]`)),
	)
	banner, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".banner")))
	if err != nil || banner != "amslack local preview — no Slack workspace involved" {
		t.Errorf("banner = %q, %v", banner, err)
	}

	// Sending an example makes the message appear without a reload.
	msgSel := `.message[data-channel="` + testChannel + `"]`
	do("send an example",
		chromedp.Click(chromedp.CSS(`[data-example="v035-firing"] [data-role=send-example]`)),
		chromedp.WaitVisible(chromedp.CSS(msgSel+` [data-action-id="silence"]`)),
	)
	attr, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(msgSel), "data-ts"))
	if err != nil || attr.Value == "" {
		t.Fatalf("message ts: %q %v", attr.Value, err)
	}
	ts := attr.Value
	msg := `.message[data-ts="` + ts + `"]`
	waitFor("header rendered", fmt.Sprintf(`document.querySelector('%s [data-block-type=header]').textContent.includes("DiskFull")`, msg))
	waitFor("here mention rendered", fmt.Sprintf(`document.querySelector('%s .mention-broadcast')?.textContent === "@here"`, msg))

	// Silence for 1 hour as alice: the click arrives signed, the message
	// is edited in place, the thread gets a reply and alice an ephemeral.
	do("silence for 1h", choose(msg+` select[data-action-id="silence"]`, "1h"))
	waitFor("message edited", fmt.Sprintf(`document.querySelector('%s [data-role=edited]') !== null && document.querySelector('%s [data-block-id=state]')?.textContent.includes("Silenced by")`, msg, msg))
	waitFor("ephemeral shown", `document.querySelector('.ephemeral[data-ephemeral]')?.textContent.includes("Only visible to you")`)
	got := clicks()
	if len(got) != 1 {
		t.Fatalf("clicks = %d, want 1", len(got))
	}
	first := got[0]
	a := first.ActionCallback.BlockActions[0]
	if diff := cmp.Diff([]string{first.User.ID, first.User.Name, a.ActionID, a.SelectedOption.Value, first.Container.MessageTs},
		[]string{alice, "alice", "silence", "1h", ts}); diff != "" {
		t.Errorf("silence click (-got +want):\n%s", diff)
	}

	do("open the thread",
		chromedp.Click(chromedp.CSS(msg+` [data-role=thread-toggle]`)),
		chromedp.WaitVisible(chromedp.CSS(msg+` [data-role=replies] .message`)),
	)
	screenshot("preview.png")

	// The page's mrkdwn rendering, checked in the browser that runs it.
	mrkdwnCases := []struct{ in, want string }{
		{"*bold* _italic_ ~strike~", "<b>bold</b> <i>italic</i> <s>strike</s>"},
		{"snake_case_name 2*3*4", "snake_case_name 2*3*4"},
		{"`a*b*` and ```x\n<y>```", "<code>a*b*</code> and <pre class=\"pre\">x\n&lt;y&gt;</pre>"},
		{"<https://example.com/a_b_c|the *docs*>", `<a href="https://example.com/a_b_c" target="_blank" rel="noopener noreferrer">the *docs*</a>`},
		{"<javascript:alert(1)|x>", "x"},
		{"<@U0PREVIEWB> <!here> <!subteam^S0ONCALL|@oncall>", `<span class="mention" data-user="U0PREVIEWB">@bob</span> <span class="mention mention-broadcast">@here</span> <span class="mention mention-group">@oncall</span>`},
		{"a &amp; b &lt;c&gt; &amp;lt;", "a &amp; b &lt;c&gt; &amp;lt;"},
		{"<img src=x onerror=alert(1)>", "img src=x onerror=alert(1)"},
		{"line 1\n&gt; quoted\nline 3", "line 1<blockquote>quoted</blockquote>line 3"},
		// A permalink to a message of the fake Slack shows it on the page.
		{"<https://slackfake.slack.com/archives/C0PREVIEW01/p1764526800123456|message>", `<a href="#" class="jump" data-jump-channel="C0PREVIEW01" data-jump-ts="1764526800.123456">message</a>`},
	}
	for _, c := range mrkdwnCases {
		html, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`window.amslackPreview.mrkdwn(%q)`, c.in)))
		if err != nil {
			t.Fatal(err)
		}
		if html != c.want {
			t.Errorf("mrkdwn(%q) = %q, want %q", c.in, html, c.want)
		}
	}

	// Bob does not see alice's ephemeral.
	do("switch to bob",
		choose(`[data-role=user-switcher]`, bob),
		chromedp.WaitNotPresent(chromedp.CSS(`.ephemeral`)),
	)

	// A button with a confirm dialog sends nothing when denied, and
	// sends the click when confirmed.
	approve := msg + ` [data-action-id="approve_restart"]`
	do("deny the confirm dialog",
		chromedp.Click(chromedp.CSS(approve)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[data-role=confirm][open]`)),
	)
	title, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-role=confirm-title]`)))
	if err != nil || title != "Restart the database?" {
		t.Errorf("confirm title = %q, %v", title, err)
	}
	do("deny",
		chromedp.Click(chromedp.CSS(`[data-role=confirm-no]`)),
		chromedp.WaitNotVisible(chromedp.CSS(`dialog[data-role=confirm]`)),
		chromedp.Click(chromedp.CSS(approve)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[data-role=confirm][open]`)),
		chromedp.Click(chromedp.CSS(`[data-role=confirm-yes]`)),
	)
	waitFor("approval shown", fmt.Sprintf(`document.querySelector('%s [data-block-id=state]')?.textContent.includes("1/2")`, msg))
	got = clicks()
	if len(got) != 2 || got[1].User.ID != bob || got[1].ActionCallback.BlockActions[0].ActionID != "approve_restart" {
		t.Errorf("after deny then confirm, clicks = %d, last %+v; want one approve_restart by bob", len(got), got[len(got)-1].ActionCallback.BlockActions)
	}

	// "Custom…" opens a modal for bob; its submission arrives signed with
	// the typed values.
	modalSel := `.modal[data-callback-id="amslack_silence"]`
	do("open the custom modal",
		choose(msg+` select[data-action-id="silence"]`, "custom"),
		chromedp.WaitVisible(chromedp.CSS(modalSel)),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).value = ""`, modalSel+` [data-block-id=duration][data-action-id=duration]`)),
		chromedp.SendKeys(chromedp.CSS(modalSel+` [data-block-id=duration][data-action-id=duration]`), "90m"),
		chromedp.SendKeys(chromedp.CSS(modalSel+` [data-block-id=comment][data-action-id=comment]`), "disk cleanup running"),
	)
	screenshot("preview-modal.png")
	do("submit the modal",
		chromedp.Click(chromedp.CSS(modalSel+` [data-role=view-submit]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`.modal`)),
	)
	waitFor("silence by bob shown", fmt.Sprintf(`document.querySelector('%s [data-block-id=state]')?.textContent.includes("Silenced by @bob")`, msg))
	got = clicks()
	if len(got) != 4 {
		t.Fatalf("clicks = %d, want 4 (silence, approve, custom, submission)", len(got))
	}
	sub := got[3]
	vals := sub.View.State.Values
	if diff := cmp.Diff([]string{string(sub.Type), sub.User.ID, vals["duration"]["duration"].Value, vals["comment"]["comment"].Value, sub.View.PrivateMetadata},
		[]string{"view_submission", bob, "90m", "disk cleanup running", ts}); diff != "" {
		t.Errorf("view_submission (-got +want):\n%s", diff)
	}

	for _, ex := range exceptions() {
		t.Errorf("page threw: %s", ex)
	}
}
