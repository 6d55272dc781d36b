package slackapi

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		err  error
		want Failure
	}{
		{&slack.RateLimitedError{RetryAfter: 3 * time.Second}, Failure{Class: Retry, Code: "ratelimited", RateLimited: true, RetryAfter: 3 * time.Second}},
		{slack.StatusCodeError{Code: 429}, Failure{Class: Retry, Code: "ratelimited", RateLimited: true}},
		{slack.StatusCodeError{Code: 503}, Failure{Class: Retry, Code: "http_503"}},
		{slack.StatusCodeError{Code: 404}, Failure{Class: Permanent, Code: "http_404"}},
		{slack.SlackErrorResponse{Err: "msg_blocks_too_long"}, Failure{Class: Shrink, Code: "msg_blocks_too_long"}},
		{slack.SlackErrorResponse{Err: "not_in_channel"}, Failure{Class: Permanent, Code: "not_in_channel"}},
		{slack.SlackErrorResponse{Err: "restricted_action_read_only_channel"}, Failure{Class: Permanent, Code: "restricted_action_read_only_channel"}},
		{slack.SlackErrorResponse{Err: "restricted_action_something_new"}, Failure{Class: Permanent, Code: "restricted_action"}},
		{slack.SlackErrorResponse{Err: "message_limit_exceeded"}, Failure{Class: Retry, Code: "message_limit_exceeded", RateLimited: true}},
		{slack.SlackErrorResponse{Err: "brand_new_error"}, Failure{Class: Retry, Code: "other"}},
		{&webhookError{status: 404, body: "channel_not_found"}, Failure{Class: Permanent, Code: "channel_not_found"}},
		{&webhookError{status: 429, retryAfter: time.Second}, Failure{Class: Retry, Code: "ratelimited", RateLimited: true, RetryAfter: time.Second}},
		{context.DeadlineExceeded, Failure{Class: Retry, Code: "transport"}},
	}
	for _, tt := range tests {
		got := *Classify(tt.err)
		got.Err = nil
		if diff := cmp.Diff(got, tt.want); diff != "" {
			t.Errorf("Classify(%v) (-got +want):\n%s", tt.err, diff)
		}
	}
}
