package render

import "github.com/slack-go/slack"

// The custom silence dialog. Its block and action ids are what Slack
// returns in view_submission's state.values.
const (
	SilenceViewID   = "amslack_silence"
	DurationBlockID = "duration"
	CommentBlockID  = "comment"
	// MaxSilenceComment keeps the comment well inside Alertmanager's and
	// Slack's limits.
	MaxSilenceComment = 500
)

// SilenceModal is the custom silence dialog. metadata is its
// private_metadata, which Slack returns with the submission (at most 3000
// characters).
func SilenceModal(metadata string) slack.ModalViewRequest {
	duration := slack.NewPlainTextInputBlockElement(modalText("2h, 1d, 90m"), DurationBlockID).WithInitialValue("2h")
	comment := slack.NewPlainTextInputBlockElement(modalText("Why?"), CommentBlockID)
	comment.Multiline = true
	comment.MaxLength = MaxSilenceComment
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      SilenceViewID,
		Title:           modalText("Silence alerts"),
		Submit:          modalText("Silence"),
		Close:           modalText("Cancel"),
		PrivateMetadata: metadata,
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock(DurationBlockID, modalText("Duration"), modalText("Up to 30d, such as 45m, 4h or 2d"), duration),
			slack.NewInputBlock(CommentBlockID, modalText("Comment"), nil, comment).WithOptional(true),
		}},
	}
}

// modalText is a plain_text object as slack-go's NewTextBlockObject makes
// it, with "emoji": false.
func modalText(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}
