package preview

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

const (
	testSecret  = "preview-test-signing-secret"
	testChannel = "C0PREVIEW01"
	alice       = "U0PREVIEWA"
	bob         = "U0PREVIEWB"
)

// interaction is one request the fake interaction handler received.
type interaction struct {
	// verifyErr is what slack-go's SecretsVerifier said about the
	// signature.
	verifyErr   error
	contentType string
	cb          slack.InteractionCallback
	// raw is the payload JSON.
	raw []byte
}

// interactions stands in for amslack's interaction handler: it checks the
// signature with slack-go, parses the payload as slack-go does, records it
// and answers with reply.
type interactions struct {
	// react, if set, runs for each verified payload and returns the answer;
	// nil answers an empty 200.
	react func(cb slack.InteractionCallback) (int, string)

	// mu guards got.
	mu  sync.Mutex
	got []interaction
}

func (f *interactions) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	in := interaction{contentType: r.Header.Get("Content-Type")}
	sv, err := slack.NewSecretsVerifier(r.Header, testSecret)
	if err == nil {
		_, _ = sv.Write(body)
		err = sv.Ensure()
	}
	in.verifyErr = err
	form, err := url.ParseQuery(string(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	in.raw = []byte(form.Get("payload"))
	if err := json.Unmarshal(in.raw, &in.cb); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.got = append(f.got, in)
	f.mu.Unlock()
	if in.verifyErr != nil {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	status, answer := http.StatusOK, ""
	if f.react != nil {
		status, answer = f.react(in.cb)
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, answer)
}

func (f *interactions) received() []interaction {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]interaction(nil), f.got...)
}

// webhookSink stands in for amslack's webhook handler.
type webhookSink struct {
	status int

	// mu guards bodies and headers.
	mu      sync.Mutex
	bodies  [][]byte
	headers []http.Header
}

func (s *webhookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.bodies = append(s.bodies, b)
	s.headers = append(s.headers, r.Header.Clone())
	s.mu.Unlock()
	if s.status != 0 {
		w.WriteHeader(s.status)
	}
	_, _ = io.WriteString(w, "ok")
}

// env is a preview handler with a real fake Slack behind it, both served
// over HTTP.
type env struct {
	fake    *slackfake.Server
	fakeURL string
	api     *slack.Client
	inter   *interactions
	hook    *webhookSink
	h       *Handler
	srv     *httptest.Server
}

func newEnv(t *testing.T, now func() time.Time) *env {
	t.Helper()
	return newEnvWith(t, now, nil)
}

// newEnvWith is newEnv with the handler's options changed by opts.
func newEnvWith(t *testing.T, now func() time.Time, opts func(*Options)) *env {
	t.Helper()
	e := &env{fake: slackfake.New(slackfake.Options{}), inter: &interactions{}, hook: &webhookSink{}}
	fakeSrv := httptest.NewServer(e.fake)
	t.Cleanup(fakeSrv.Close)
	e.fakeURL = fakeSrv.URL
	e.api = slack.New("xoxb-test", slack.OptionAPIURL(e.fake.APIURL(fakeSrv.URL)))
	o := Options{
		Fake: e.fake, BaseURL: fakeSrv.URL, SigningSecret: testSecret,
		Interactions: e.inter, Webhook: e.hook,
		Examples: map[string][]byte{
			"v035-firing":   readFile(t, "v035-firing.json"),
			"v035-resolved": readFile(t, "v035-resolved.json"),
		},
		Now: now,
	}
	if opts != nil {
		opts(&o)
	}
	e.h = New(o)
	e.srv = httptest.NewServer(e.h)
	// Cleanups run last first: the event streams end before the server
	// waits for its requests.
	t.Cleanup(e.srv.Close)
	t.Cleanup(e.h.Close)
	return e
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// renderedMessage is a message as render's golden files hold it.
type renderedMessage struct {
	Text   string          `json:"text"`
	Blocks json.RawMessage `json:"blocks"`
}

func goldenMessage(t testing.TB) renderedMessage {
	t.Helper()
	var m renderedMessage
	if err := json.Unmarshal(readFile(t, "message-v035-firing-state.json"), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// post posts a message to the fake Slack through its Web API and returns
// its ts.
func (e *env) post(t testing.TB, method string, args url.Values) string {
	t.Helper()
	args.Set("token", "xoxb-test")
	resp, err := http.PostForm(e.fakeURL+"/api/"+method, args)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		OK        bool   `json:"ok"`
		Error     string `json:"error"`
		TS        string `json:"ts"`
		MessageTS string `json:"message_ts"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || !out.OK {
		t.Fatalf("%s: %v %s", method, err, out.Error)
	}
	if out.TS == "" {
		return out.MessageTS
	}
	return out.TS
}

// call posts body as JSON to the preview API and decodes the answer; a
// []byte body is sent as it is.
func (e *env) call(t testing.TB, path string, body any, out any) int {
	t.Helper()
	b, ok := body.([]byte)
	if !ok {
		var err error
		if b, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.Post(e.srv.URL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("decode answer of %s: %v", path, err)
		}
	}
	return resp.StatusCode
}

// state reads the page state as user sees it.
func (e *env) state(t testing.TB, user string) state {
	t.Helper()
	resp, err := http.Get(e.srv.URL + "/preview/api/state?user=" + url.QueryEscape(user))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("state: HTTP %d", resp.StatusCode)
	}
	var st state
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}
