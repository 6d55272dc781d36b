// Package oncall tests the on-call workflow in the local preview end to
// end: amslack in preview mode, in process, with a real Alertmanager, and
// the page in headless Chromium. It is a package of its own so that the
// preview package's tests, fuzz targets included, do not link all of
// amslack.
package oncall
