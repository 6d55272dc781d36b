package slackapi

import (
	"context"

	"github.com/slack-go/slack"
)

// Web API methods of the silence preview modal and App Home, as metric
// labels and keys of Limits.MethodPerMinute. All are Tier 4 (100 or more a
// minute).
const (
	MethodUpdateView  = "views.update"
	MethodUserInfo    = "users.info"
	MethodPublishView = "views.publish"
)

// UpdateViewContext replaces the modal viewID with view (views.update).
// hash is the hash of the view being replaced, as the interaction that
// asked for the update carried it: Slack answers hash_conflict when the
// view changed since, so that an older update cannot overwrite a newer one.
func (c *Client) UpdateViewContext(ctx context.Context, view slack.ModalViewRequest, externalID, hash, viewID string) (*slack.ViewResponse, error) {
	var resp *slack.ViewResponse
	err := c.do(ctx, Call{Method: MethodUpdateView}, func() error {
		var err error
		resp, err = c.api.UpdateViewContext(ctx, view, externalID, hash, viewID)
		return err
	})
	return resp, plain(err)
}

// GetUserInfoContext reads a user's profile (users.info), whose tz is the
// user's time zone.
func (c *Client) GetUserInfoContext(ctx context.Context, user string, options ...slack.GetUserInfoOption) (*slack.User, error) {
	var u *slack.User
	err := c.do(ctx, Call{Method: MethodUserInfo}, func() error {
		var err error
		u, err = c.api.GetUserInfoContext(ctx, user, options...)
		return err
	})
	return u, plain(err)
}

// PublishViewContext publishes a user's App Home view (views.publish).
func (c *Client) PublishViewContext(ctx context.Context, req slack.PublishViewContextRequest) (*slack.ViewResponse, error) {
	var resp *slack.ViewResponse
	err := c.do(ctx, Call{Method: MethodPublishView}, func() error {
		var err error
		resp, err = c.api.PublishViewContext(ctx, req)
		return err
	})
	return resp, plain(err)
}
