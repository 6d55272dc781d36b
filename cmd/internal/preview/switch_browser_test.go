package preview

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/slack-go/slack"

	"github.com/amslack/amslack/cmd/internal/preview/browsertest"
)

// TestSwitchUserDuringLoad switches the user while the page is reading
// alice's state: the answer for alice, arriving after the switch, must not
// switch the page back to her, or the next click goes out as alice.
func TestSwitchUserDuringLoad(t *testing.T) {
	ctx := browsertest.Start(t)
	e := newEnv(t, nil)

	// hold keeps alice's state requests until released; held reports each
	// one it keeps; bobAsked counts the requests for bob's state.
	var hold atomic.Bool
	held := make(chan struct{}, 1)
	release := make(chan struct{})
	var bobAsked atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/preview/api/state" {
			switch r.URL.Query().Get("user") {
			case alice:
				if hold.Load() {
					held <- struct{}{}
					<-release
				}
			case bob:
				bobAsked.Add(1)
			}
		}
		e.h.ServeHTTP(w, r)
	}))
	// The page's event stream ends first, or Close would wait for it.
	t.Cleanup(func() { e.h.Close(); srv.Close() })
	// Unblock a request still held when the test fails early.
	t.Cleanup(func() {
		if hold.Swap(false) {
			close(release)
		}
	})

	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	do("open the page as alice",
		chromedp.Navigate(srv.URL+"/preview?user="+alice),
		chromedp.Poll[chromedp.Void](`Number(document.body.dataset.rendered) > 0`, chromedp.WithPollingTimeout(30*time.Second)),
	)

	// A change in the fake Slack makes the page read alice's state again;
	// that request is held.
	hold.Store(true)
	if _, _, err := e.api.PostMessage(testChannel, slack.MsgOptionText("a change", false)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		t.Fatal("the page did not read the state after a change")
	}
	do("switch to bob", chromedp.Evaluate[chromedp.Void](`(() => {
		const s = document.querySelector("select[data-role=user-switcher]");
		s.value = "`+bob+`";
		s.dispatchEvent(new Event("change", {bubbles: true}));
	})()`))
	hold.Store(false)
	close(release)

	for deadline := time.Now().Add(30 * time.Second); bobAsked.Load() == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			who, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("select[data-role=user-switcher]").value`))
			t.Fatalf("the page never read bob's state after switching to him; it shows %q", who)
		}
	}
	do("the page stays with bob", chromedp.Poll[chromedp.Void](
		`document.querySelector("select[data-role=user-switcher]").value === "`+bob+`" && location.search.includes("`+bob+`")`,
		chromedp.WithPollingTimeout(30*time.Second)))
}
