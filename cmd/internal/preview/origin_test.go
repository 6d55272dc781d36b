package preview

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestCrossOriginRequestsAreRefused: a web page on another origin can make
// the browser POST to the preview (a form or a fetch with a "simple"
// content type needs no CORS preflight). The preview's POST endpoints act
// with a real signing secret and may reach a real Alertmanager, so they
// take only JSON, and only from the preview's own page.
func TestCrossOriginRequestsAreRefused(t *testing.T) {
	e := newEnv(t, nil)
	host := strings.TrimPrefix(e.srv.URL, "http://")
	tests := []struct {
		name        string
		contentType string
		header      map[string]string
		want        int
	}{
		{name: "text/plain, as a cross-origin fetch sends without a preflight", contentType: "text/plain", want: http.StatusUnsupportedMediaType},
		{name: "form", contentType: "application/x-www-form-urlencoded", want: http.StatusUnsupportedMediaType},
		{name: "no content type", contentType: "", want: http.StatusUnsupportedMediaType},
		{name: "other origin", contentType: "application/json", header: map[string]string{"Origin": "https://evil.example"}, want: http.StatusForbidden},
		{name: "same host, other port", contentType: "application/json", header: map[string]string{"Origin": "http://127.0.0.1:1"}, want: http.StatusForbidden},
		{name: "opaque origin", contentType: "application/json", header: map[string]string{"Origin": "null"}, want: http.StatusForbidden},
		{name: "cross-site fetch", contentType: "application/json", header: map[string]string{"Sec-Fetch-Site": "cross-site"}, want: http.StatusForbidden},
		{name: "same-site fetch", contentType: "application/json", header: map[string]string{"Sec-Fetch-Site": "same-site"}, want: http.StatusForbidden},
		{name: "cross-site text/plain", contentType: "text/plain", header: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, want: http.StatusForbidden},
		{name: "the page itself", contentType: "application/json", header: map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://" + host}, want: http.StatusOK},
		{name: "same origin, older browser", contentType: "application/json", header: map[string]string{"Origin": "http://" + host}, want: http.StatusOK},
		{name: "JSON with charset", contentType: "application/json; charset=utf-8", want: http.StatusOK},
		{name: "a tool such as curl", contentType: "application/json", want: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.hook.mu.Lock()
			before := len(e.hook.bodies)
			e.hook.mu.Unlock()
			req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/preview/api/send-example", strings.NewReader(`{"name":"v035-firing"}`))
			if err != nil {
				t.Fatal(err)
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status = %d (%s), want %d", resp.StatusCode, body, tt.want)
			}
			e.hook.mu.Lock()
			sent := len(e.hook.bodies) - before
			e.hook.mu.Unlock()
			if want := map[bool]int{true: 1, false: 0}[tt.want == http.StatusOK]; sent != want {
				t.Errorf("the webhook got %d notifications, want %d", sent, want)
			}
			if tt.want == http.StatusUnsupportedMediaType && !strings.Contains(string(body), "application/json") {
				t.Errorf("the answer %q does not name the content type to use", body)
			}
		})
	}

	// Every POST endpoint is guarded, not only the one above.
	for _, path := range []string{"/preview/api/click", "/preview/api/view-action", "/preview/api/view-submit", "/preview/api/view-close", "/preview/api/home-open"} {
		for _, tt := range []struct {
			contentType, site string
			want              int
		}{
			{"text/plain", "", http.StatusUnsupportedMediaType},
			{"application/json", "cross-site", http.StatusForbidden},
		} {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(`{}`))
			req.Header.Set("Content-Type", tt.contentType)
			if tt.site != "" {
				req.Header.Set("Sec-Fetch-Site", tt.site)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("POST %s (%s, Sec-Fetch-Site %q): %d, want %d", path, tt.contentType, tt.site, resp.StatusCode, tt.want)
			}
		}
	}
	if n := len(e.inter.received()); n != 0 {
		t.Errorf("amslack's interaction handler got %d requests, want none", n)
	}
}
