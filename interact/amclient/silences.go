package amclient

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Silence states as Alertmanager lists them.
const (
	SilenceActive  = "active"
	SilencePending = "pending"
	SilenceExpired = "expired"
)

// ListedSilence is a silence as Alertmanager lists it.
type ListedSilence struct {
	ID        string
	Matchers  []Matcher
	StartsAt  time.Time
	EndsAt    time.Time
	CreatedBy string
	Comment   string
	// State is SilenceActive, SilencePending or SilenceExpired.
	State string
}

// gettableSilence is a silence in the answer of GET /api/v2/silences.
type gettableSilence struct {
	ID        string            `json:"id"`
	Matchers  []gettableMatcher `json:"matchers"`
	StartsAt  time.Time         `json:"startsAt"`
	EndsAt    time.Time         `json:"endsAt"`
	CreatedBy string            `json:"createdBy"`
	Comment   string            `json:"comment"`
	Status    struct {
		State string `json:"state"`
	} `json:"status"`
}

// gettableMatcher is a matcher as Alertmanager lists it. Alertmanager's API
// added isEqual in 0.22 and reads a matcher without it as equal; so does
// ListSilences.
type gettableMatcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"isRegex"`
	IsEqual *bool  `json:"isEqual"`
}

// ListSilences returns every silence Alertmanager knows, pending and
// expired ones included, in the order Alertmanager lists them.
func (c *Client) ListSilences(ctx context.Context) ([]ListedSilence, error) {
	var in []gettableSilence
	if err := c.do(ctx, http.MethodGet, "/api/v2/silences", nil, nil, &in); err != nil {
		return nil, fmt.Errorf("list silences: %w", err)
	}
	out := make([]ListedSilence, 0, len(in))
	for _, s := range in {
		ms := make([]Matcher, 0, len(s.Matchers))
		for _, m := range s.Matchers {
			ms = append(ms, Matcher{Name: m.Name, Value: m.Value, IsRegex: m.IsRegex, IsEqual: m.IsEqual == nil || *m.IsEqual})
		}
		out = append(out, ListedSilence{
			ID: s.ID, Matchers: ms, StartsAt: s.StartsAt, EndsAt: s.EndsAt,
			CreatedBy: s.CreatedBy, Comment: s.Comment, State: s.Status.State,
		})
	}
	return out, nil
}
