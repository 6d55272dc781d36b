// Package examples holds amslack's runnable examples: configurations, the
// Slack app manifest, message templates and an internal action server. Its
// tests check that the examples stay valid. No amslack package imports it;
// the example notifications the local preview offers live with the preview
// (cmd/internal/preview/alerts).
package examples
