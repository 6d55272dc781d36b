// Package amclient is a small client for the calls of Alertmanager's API v2
// that amslack makes: create (or extend) a silence, expire a silence, list
// alerts, and read when Alertmanager started. It uses net/http directly
// because Alertmanager's generated client pulls in the go-openapi modules.
package amclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
)

// maxErrorBody bounds how much of an error answer goes into an error.
const maxErrorBody = 512

// maxBody bounds how much of an answer is read: alert lists of big groups
// are large, but not this large.
const maxBody = 32 << 20

// ErrNotFound reports that Alertmanager does not know the silence.
var ErrNotFound = errors.New("silence not found")

// StatusError is an answer from Alertmanager other than 2xx. Body holds the
// start of the answer, which for a 4xx says what was wrong with the request.
type StatusError struct {
	Code int
	Body string
}

func (e *StatusError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("alertmanager answered %d %s", e.Code, http.StatusText(e.Code))
	}
	return fmt.Sprintf("alertmanager answered %d %s: %s", e.Code, http.StatusText(e.Code), e.Body)
}

// Temporary reports whether the request may succeed when repeated: 5xx
// answers may, 4xx answers will not.
func (e *StatusError) Temporary() bool { return e.Code >= 500 }

// Matcher is a silence matcher.
type Matcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"isRegex"`
	// IsEqual is false for the negative matchers != and !~.
	IsEqual bool `json:"isEqual"`
}

// Type is the kind of match m makes, as the labels package names it: =,
// !=, =~ or !~.
func (m Matcher) Type() labels.MatchType {
	switch {
	case m.IsRegex && m.IsEqual:
		return labels.MatchRegexp
	case m.IsRegex:
		return labels.MatchNotRegexp
	case !m.IsEqual:
		return labels.MatchNotEqual
	}
	return labels.MatchEqual
}

// EqualMatchers returns one equality matcher per label, sorted by name.
func EqualMatchers(ls map[string]string) []Matcher {
	ms := make([]Matcher, 0, len(ls))
	for k, v := range ls {
		ms = append(ms, Matcher{Name: k, Value: v, IsEqual: true})
	}
	slices.SortFunc(ms, func(a, b Matcher) int { return strings.Compare(a.Name, b.Name) })
	return ms
}

// Silence is a silence to create. A non-empty ID updates that silence in
// place when the matchers are unchanged (Alertmanager creates a new one and
// expires the old one otherwise).
type Silence struct {
	ID        string    `json:"id,omitempty"`
	Matchers  []Matcher `json:"matchers"`
	StartsAt  time.Time `json:"startsAt"`
	EndsAt    time.Time `json:"endsAt"`
	CreatedBy string    `json:"createdBy"`
	Comment   string    `json:"comment"`
}

// Alert is an alert as Alertmanager lists it.
type Alert struct {
	Labels      map[string]string `json:"labels"`
	Fingerprint string            `json:"fingerprint"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
	Status      AlertStatus       `json:"status"`
}

// AlertStatus says whether an alert is suppressed and by what.
type AlertStatus struct {
	// State is "active", "suppressed" or "unprocessed".
	State       string   `json:"state"`
	SilencedBy  []string `json:"silencedBy"`
	InhibitedBy []string `json:"inhibitedBy"`
}

// Client calls one Alertmanager.
type Client struct {
	base *url.URL
	hc   *http.Client
}

// New returns a client for the Alertmanager at baseURL (such as
// http://127.0.0.1:9093, with the path prefix of --web.route-prefix if
// any). A nil hc means http.DefaultClient; callers bound each call through
// its context.
func New(baseURL string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("alertmanager URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, errors.New("alertmanager URL must be an absolute http(s) URL")
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return &Client{base: u, hc: hc}, nil
}

// CreateSilence creates s, or updates it when s.ID is set, and returns the
// silence's id. Keep the returned id: it differs from s.ID when
// Alertmanager had to replace the silence.
func (c *Client) CreateSilence(ctx context.Context, s Silence) (string, error) {
	body, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	var out struct {
		SilenceID string `json:"silenceID"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/v2/silences", nil, body, &out); err != nil {
		return "", fmt.Errorf("create silence: %w", err)
	}
	if out.SilenceID == "" {
		return "", errors.New("create silence: answer has no silenceID")
	}
	return out.SilenceID, nil
}

// ExpireSilence expires the silence with the given id. Expiring a silence
// that has already expired succeeds; an unknown id gives ErrNotFound.
func (c *Client) ExpireSilence(ctx context.Context, id string) error {
	err := c.do(ctx, http.MethodDelete, "/api/v2/silence/"+url.PathEscape(id), nil, nil, nil)
	var se *StatusError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se) && se.Code == http.StatusNotFound:
		return fmt.Errorf("expire silence %s: %w", id, ErrNotFound)
	case errors.As(err, &se) && se.Code == http.StatusInternalServerError && strings.Contains(se.Body, "not found"):
		// Older Alertmanagers (Debian's 0.25) answer 500 "silence not
		// found" where later ones answer 404.
		return fmt.Errorf("expire silence %s: %w", id, ErrNotFound)
	case errors.As(err, &se) && se.Code == http.StatusInternalServerError && strings.Contains(se.Body, "already expired"):
		// Some older Alertmanagers answer 500 "silence … already
		// expired" where later ones answer 200.
		return nil
	default:
		return fmt.Errorf("expire silence %s: %w", id, err)
	}
}

// ListAlerts returns the alerts that match every matcher in filter,
// including silenced, inhibited and unprocessed ones; resolved alerts are
// not listed.
func (c *Client) ListAlerts(ctx context.Context, filter labels.Matchers) ([]Alert, error) {
	q := url.Values{}
	q.Set("active", "true")
	q.Set("silenced", "true")
	q.Set("inhibited", "true")
	q.Set("unprocessed", "true")
	for _, m := range filter {
		// labels.Matcher.String quotes and escapes the value the way
		// Alertmanager's filter parser reads it back.
		q.Add("filter", m.String())
	}
	var out []Alert
	if err := c.do(ctx, http.MethodGet, "/api/v2/alerts", q, nil, &out); err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return out, nil
}

// StartedAt returns when the Alertmanager process started. GET
// /api/v2/status answers it in the field "uptime", which Alertmanager's
// OpenAPI specification types as a date-time and fills with the process's
// start time, not a duration.
func (c *Client) StartedAt(ctx context.Context) (time.Time, error) {
	var out struct {
		Uptime time.Time `json:"uptime"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v2/status", nil, nil, &out); err != nil {
		return time.Time{}, fmt.Errorf("read status: %w", err)
	}
	if out.Uptime.IsZero() {
		return time.Time{}, errors.New("read status: answer has no uptime")
	}
	return out.Uptime, nil
}

func (c *Client) do(ctx context.Context, method, path string, q url.Values, body []byte, out any) error {
	u := *c.base
	u.Path += path
	u.RawQuery = q.Encode()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		// *url.Error names the URL, which may carry basic auth
		// credentials; keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			return fmt.Errorf("%s %s: %w", method, path, ue.Err)
		}
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return &StatusError{Code: resp.StatusCode, Body: strings.TrimSpace(string(b))}
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}
