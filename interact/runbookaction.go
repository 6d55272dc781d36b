package interact

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
	"strconv"
	"strings"
	"time"

	"github.com/amslack/amslack/interact/runbook"
	"github.com/amslack/amslack/receiver/store"
	"github.com/amslack/amslack/render"
)

// Retries of a runbook call: transport errors and 5xx answers are tried
// again with the same idempotency key, 4xx answers are not.
const (
	runbookAttempts = 3
	runbookBackoff  = time.Second
	// maxRunbookBody bounds how much of an internal API's answer is read.
	maxRunbookBody = 64 << 10
	// maxDetail bounds the detail shown in Slack and kept in the store.
	maxDetail = 300
)

// runAction records the clicker's approval and, once the action has as many
// distinct approvers as it needs, calls its internal API.
func (h *Handler) runAction(ctx context.Context, c click, g store.Group, a *Action) outcome {
	var (
		approvers []render.User
		have      int
		already   bool
		run       bool
		round     int
	)
	_, err := h.groups.Update(ctx, g.Key, func(sg *store.Group, found bool) error {
		if !found {
			return errNotTracked
		}
		approvers, have, already, run, round = nil, 0, false, false, 0
		list := sg.State.Approvals[a.ID]
		if slices.ContainsFunc(list, func(u render.User) bool { return u.ID == c.user.ID }) {
			already, have = true, len(list)
			return nil
		}
		list = append(slices.Clone(list), c.user)
		have = len(list)
		if have < a.Approvals {
			if sg.State.Approvals == nil {
				sg.State.Approvals = map[string][]render.User{}
			}
			sg.State.Approvals[a.ID] = list
			return nil
		}
		// This click completes a round: clear the approvals in the same
		// update, so that one more click starts a new round rather than
		// running this one again.
		delete(sg.State.Approvals, a.ID)
		approvers, run = list, true
		// The round number makes the idempotency key: every completed
		// run of the action on this message leaves one result.
		round = 1
		for _, r := range sg.State.Results {
			if r.Action == a.ID {
				round++
			}
		}
		return nil
	})
	if err != nil {
		return failed(err, fmt.Sprintf("amslack could not record your approval: %v. Try again in a moment.", err))
	}
	switch {
	case already:
		return outcome{
			text:   fmt.Sprintf("You already approved %s (%d of %d); waiting for %d more.", a.Label, have, a.Approvals, a.Approvals-have),
			result: fmt.Sprintf("already approved %d/%d", have, a.Approvals),
		}
	case !run:
		h.refresh(ctx, g.Key, g.Route, fmt.Sprintf("%s: approved by <@%s> (%d of %d)", a.Label, c.user.ID, have, a.Approvals))
		return outcome{
			text:   fmt.Sprintf("Approval of %s recorded (%d of %d); waiting for %d more.", a.Label, have, a.Approvals, a.Approvals-have),
			result: fmt.Sprintf("approval %d/%d", have, a.Approvals),
		}
	}

	key := runbook.IdempotencyKey(c.team, c.channel, c.ts, a.ID, round)
	resp, err := h.caller.call(ctx, a, key, runbookRequest(c, g, a.ID, key, approvers))
	res := render.Result{Action: a.ID, By: c.user, At: h.now(), OK: err == nil && resp.OK, Detail: truncate(resp.Detail, maxDetail)}
	if err != nil {
		res.Detail = truncate(err.Error(), maxDetail)
	}
	_, uerr := h.groups.Update(ctx, g.Key, func(sg *store.Group, found bool) error {
		if !found {
			return errNotTracked
		}
		sg.State.Results = append(sg.State.Results, res)
		return nil
	})
	if uerr != nil {
		h.logger.Error("cannot record runbook result", "action", a.ID, "err", uerr)
	}
	h.refresh(ctx, g.Key, g.Route, resultNote(a, approvers, res))
	switch {
	case err != nil:
		return outcome{err: err, result: err.Error(), idemKey: key,
			text: fmt.Sprintf("%s failed: %v.", a.Label, err)}
	case !resp.OK:
		err := fmt.Errorf("internal API answered not ok: %s", res.Detail)
		return outcome{err: err, result: err.Error(), idemKey: key,
			text: fmt.Sprintf("%s did not succeed: %s", a.Label, cmpOr(res.Detail, "no detail given"))}
	}
	return outcome{
		text:    fmt.Sprintf("%s: %s", a.Label, cmpOr(res.Detail, "done")),
		result:  cmpOr(res.Detail, "ok"),
		idemKey: key,
	}
}

// resultNote is the thread reply for an action's outcome.
func resultNote(a *Action, approvers []render.User, res render.Result) string {
	who := make([]string, 0, len(approvers))
	for _, u := range approvers {
		who = append(who, "<@"+u.ID+">")
	}
	icon := "✅"
	if !res.OK {
		icon = "❌"
	}
	note := fmt.Sprintf("%s %s, approved by %s", icon, a.Label, strings.Join(who, ", "))
	if res.Detail != "" {
		note += ": " + res.Detail
	}
	return note
}

func runbookRequest(c click, g store.Group, action, key string, approvers []render.User) runbook.Request {
	req := runbook.Request{
		Action:         action,
		IdempotencyKey: key,
		GroupKey:       g.Key.GroupKey,
		Receiver:       g.Key.Receiver,
		Channel:        c.channel,
		MessageTS:      c.ts,
		Team:           c.team,
		User:           runbook.User{ID: c.user.ID, Name: c.user.Name},
		Approvers:      make([]runbook.User, 0, len(approvers)),
		Labels:         map[string]string{},
		Alerts:         []runbook.Alert{},
	}
	for _, u := range approvers {
		req.Approvers = append(req.Approvers, runbook.User{ID: u.ID, Name: u.Name})
	}
	if g.Message != nil && g.Message.Data != nil {
		for k, v := range g.Message.CommonLabels {
			req.Labels[k] = v
		}
		for _, al := range g.Message.Alerts {
			status := al.Status
			if s, ok := g.Alerts[al.Fingerprint]; ok {
				status = s
			}
			req.Alerts = append(req.Alerts, runbook.Alert{Labels: al.Labels, Status: status, Fingerprint: al.Fingerprint})
		}
	}
	return req
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// caller makes signed runbook calls.
type caller struct {
	hc  *http.Client
	now func() time.Time
	// backoff is the pause before the first retry; it doubles after.
	backoff time.Duration
}

// errPermanent marks an answer that retrying cannot change.
var errPermanent = errors.New("not retried")

// call POSTs req to the action's URL, retrying transport errors and 5xx
// answers with backoff and the same idempotency key. Each attempt is signed
// afresh, so that a retry is never outside the server's time window.
func (cl caller) call(ctx context.Context, a *Action, key string, req runbook.Request) (runbook.Response, error) {
	secret, err := a.secret()
	if err != nil {
		return runbook.Response{}, err
	}
	body, err := json.Marshal(req)
	if err != nil {
		return runbook.Response{}, err
	}
	backoff := cl.backoff
	for attempt := 1; ; attempt++ {
		resp, err := cl.attempt(ctx, a, key, secret, body)
		if err == nil || errors.Is(err, errPermanent) || attempt == runbookAttempts {
			if err != nil {
				err = fmt.Errorf("call %s (attempt %d of %d): %w", a.ID, attempt, runbookAttempts, err)
			}
			return resp, err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return runbook.Response{}, fmt.Errorf("call %s: %w (after %v)", a.ID, ctx.Err(), err)
		case <-t.C:
		}
		backoff *= 2
	}
}

func (cl caller) attempt(ctx context.Context, a *Action, key string, secret, body []byte) (runbook.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(a.Timeout))
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, a.URL, bytes.NewReader(body))
	if err != nil {
		// The URL may hold a token: do not repeat it.
		return runbook.Response{}, fmt.Errorf("invalid action URL: %w", errPermanent)
	}
	ts := strconv.FormatInt(cl.now().Unix(), 10)
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set(runbook.HeaderIdempotencyKey, key)
	hreq.Header.Set(runbook.HeaderTimestamp, ts)
	hreq.Header.Set(runbook.HeaderSignature, runbook.Sign(secret, ts, body))
	resp, err := cl.hc.Do(hreq)
	if err != nil {
		return runbook.Response{}, unwrapURLError(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxRunbookBody))
	var out runbook.Response
	decodeErr := json.Unmarshal(data, &out)
	switch {
	case resp.StatusCode >= 500:
		return runbook.Response{}, fmt.Errorf("internal API answered %d%s", resp.StatusCode, detailSuffix(out, data, decodeErr))
	case resp.StatusCode/100 != 2:
		return runbook.Response{}, fmt.Errorf("internal API answered %d%s: %w", resp.StatusCode, detailSuffix(out, data, decodeErr), errPermanent)
	case decodeErr != nil:
		// A 2xx without the JSON answer: the call was made, the server
		// just did not say more.
		return runbook.Response{OK: true}, nil
	}
	return out, nil
}

func detailSuffix(out runbook.Response, data []byte, decodeErr error) string {
	d := out.Detail
	if decodeErr != nil {
		d = strings.TrimSpace(string(data))
	}
	if d == "" {
		return ""
	}
	return " (" + truncate(d, 200) + ")"
}

// unwrapURLError drops the URL that net/http puts in its errors: response
// URLs and action URLs are capabilities.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
