package interact

import (
	"context"
	"fmt"
	"slices"

	"github.com/prometheus/alertmanager/pkg/labels"
)

// Reasons shown to a clicker who may not act.
const (
	reasonNotApplicable = "This action does not apply to this alert group."
	reasonNotAllowed    = "You are not allowed to do this. Ask the people who run amslack to add you or your user group."
	reasonNotOffered    = "This action is not offered on this alert group's messages. Nothing was done."
)

// rule returns the authorization rule of an action_id.
func (h *Handler) rule(action string) Rule {
	if b := h.builtinFor(action); b != nil {
		return b.Rule(h, action)
	}
	return Rule{}
}

// authorize decides whether user may act on a group with the given common
// labels. It returns "" when allowed, or the reason to show when not; an
// error means it could not decide (Slack's user groups unavailable).
func (h *Handler) authorize(ctx context.Context, r Rule, user string, common map[string]string) (string, error) {
	if !matches(r.ParsedMatchers, common) {
		return reasonNotApplicable, nil
	}
	if r.Open() || slices.Contains(r.Users, user) {
		return "", nil
	}
	for _, g := range r.UserGroups {
		members, err := h.groupMembers(ctx, g)
		if err != nil {
			return "", err
		}
		if members[user] {
			return "", nil
		}
	}
	return reasonNotAllowed, nil
}

func matches(ms labels.Matchers, ls map[string]string) bool {
	for _, m := range ms {
		if !m.Matches(ls[m.Name]) {
			return false
		}
	}
	return true
}

// groupMembers returns the members of a Slack user group, cached for the
// user group TTL because usergroups.users.list is a Tier 2 method.
func (h *Handler) groupMembers(ctx context.Context, group string) (map[string]bool, error) {
	now := h.now()
	if c, ok := h.members.Get(group); ok && now.Before(c.expires) {
		return c.users, nil
	}
	ids, err := h.slack.GetUserGroupMembersContext(ctx, group)
	if err != nil {
		return nil, fmt.Errorf("read members of user group %s: %w", group, err)
	}
	users := make(map[string]bool, len(ids))
	for _, id := range ids {
		users[id] = true
	}
	h.members.Add(group, cachedMembers{users: users, expires: now.Add(h.userGroupTTL)})
	return users, nil
}
