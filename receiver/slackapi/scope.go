package slackapi

// ScopeKind is what a rate-limit scope counts calls to.
type ScopeKind int

// Kinds of rate-limit scope. Slack limits each Web API method per
// workspace, chat.postMessage also per channel and across the workspace,
// and each incoming webhook on its own
// (https://docs.slack.dev/apis/web-api/rate-limits).
const (
	// KindChannel counts the messages posted to one channel.
	KindChannel ScopeKind = iota + 1
	// KindMethod counts the calls of one Web API method.
	KindMethod
	// KindWorkspace counts the messages posted across the workspace.
	KindWorkspace
	// KindWebhook counts the posts to one incoming webhook.
	KindWebhook
)

// Scope is one rate limit that Slack applies: calls in the same scope share
// its budget, and a 429 tells the client to leave that scope alone until
// Retry-After has passed. The zero Scope is no scope.
type Scope struct {
	Kind ScopeKind
	// Name is the channel ID, the method name or the webhook's name; empty
	// for the workspace.
	Name string
}

// ChannelScope is the scope of messages posted to channel.
func ChannelScope(channel string) Scope { return Scope{Kind: KindChannel, Name: channel} }

// MethodScope is the scope of calls of the Web API method, such as
// "chat.update".
func MethodScope(method string) Scope { return Scope{Kind: KindMethod, Name: method} }

// WorkspaceScope is the scope of messages posted across the workspace.
func WorkspaceScope() Scope { return Scope{Kind: KindWorkspace} }

// WebhookScope is the scope of posts to one incoming webhook, named by
// the route that posts through it (amslack) or by its ID (the fake Slack).
func WebhookScope(name string) Scope { return Scope{Kind: KindWebhook, Name: name} }

// String returns the scope's key as logs, reports and the fake Slack's
// Violation show it: "chat.postMessage:<channel>", "method:<method>",
// "workspace" or "webhook:<name>"; "" for the zero Scope.
func (s Scope) String() string {
	switch s.Kind {
	case KindChannel:
		return "chat.postMessage:" + s.Name
	case KindMethod:
		return "method:" + s.Name
	case KindWorkspace:
		return "workspace"
	case KindWebhook:
		return "webhook:" + s.Name
	}
	return ""
}
