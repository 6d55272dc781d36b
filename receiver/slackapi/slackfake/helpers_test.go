package slackfake

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

const testToken = "xoxb-test-token"

// t0 is the fixed clock of tests that do not need time to pass.
var t0 = time.Unix(1764425522, 100000)

// ts0 is the first timestamp a server on the t0 clock hands out.
const ts0 = "1764425522.000100"

func fixedClock() time.Time { return t0 }

// result is an answer from the fake.
type result struct {
	status int
	header http.Header
	body   map[string]any // decoded JSON, nil for plain answers
	plain  string
}

func do(t testing.TB, h http.Handler, req *http.Request) result {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := result{status: rec.Code, header: rec.Header()}
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(rec.Body.Bytes(), &res.body); err != nil {
			t.Fatalf("answer is not JSON: %v: %s", err, rec.Body)
		}
	} else {
		res.plain = rec.Body.String()
	}
	return res
}

// postForm calls a Web API method with a form body, as slack-go's chat.*
// calls do; the token goes in the form unless the form sets one.
func postForm(t testing.TB, h http.Handler, method string, form url.Values) result {
	t.Helper()
	if _, ok := form["token"]; !ok {
		form.Set("token", testToken)
	}
	req := httptest.NewRequest(http.MethodPost, "/api/"+method, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, h, req)
}

// postJSON posts a JSON body with a bearer token to path.
func postJSON(t testing.TB, h http.Handler, path string, body any) result {
	t.Helper()
	b, ok := body.([]byte)
	if !ok {
		b = mustJSON(t, body)
	}
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Authorization", "Bearer "+testToken)
	return do(t, h, req)
}

// form builds url.Values from key, value pairs.
func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// slackErr is the body of a failed Web API call.
func slackErr(code string) map[string]any { return map[string]any{"ok": false, "error": code} }

// pathOf returns the path of a URL the server handed out.
func pathOf(t testing.TB, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}
