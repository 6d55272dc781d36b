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
	"github.com/amslack/amslack/receiver/alertgroup"
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

// errRecheck aborts the store update of an approval that would complete a
// round with approvers whose permission this click has not checked yet.
var errRecheck = errors.New("approvers to check again")

// maxRechecks bounds the rounds of checking approvers on one click; each
// round checks those who approved since the last.
const maxRechecks = 3

// runAction records the clicker's approval and, once the action has as many
// distinct approvers as it needs, calls its internal API. Only approvals
// given within the approval window count, and a round completes only with
// approvers who may still approve: each earlier approver's permission is
// checked again, as configuration or user groups may have changed since.
func (h *Handler) runAction(ctx context.Context, c click, g alertgroup.Group, a *Action) outcome {
	ap, fail, ok := h.approve(ctx, c, g, a)
	if !ok {
		return fail
	}
	for reason, n := range ap.dropped {
		h.metrics.approvals.WithLabelValues(reason).Add(float64(n))
		h.logger.Info("approvals no longer count", "action", a.ID, "reason", reason, "count", n, "group_key", g.Key.GroupKey)
	}
	switch {
	case ap.already:
		if len(ap.dropped) > 0 {
			// The message still shows the approvals that no longer count.
			h.refresh(ctx, g.Key, g.Route)
		}
		return outcome{
			text:   render.AlreadyApprovedReply(a.Label, ap.have, a.Approvals),
			result: fmt.Sprintf("already approved %d/%d", ap.have, a.Approvals),
		}
	case !ap.run:
		h.refresh(ctx, g.Key, g.Route, render.ApprovalNote(a.Label, c.user, ap.have, a.Approvals))
		return outcome{
			text:   render.ApprovalRecordedReply(a.Label, ap.have, a.Approvals),
			result: fmt.Sprintf("approval %d/%d", ap.have, a.Approvals),
		}
	}
	return h.callAction(ctx, c, g, a, ap.approvers, ap.round)
}

// approval is what came of recording one click's approval of an action.
type approval struct {
	// approvers are those of the round this click completed.
	approvers []alertgroup.User
	// have is how many approvals count, this click's included.
	have int
	// already reports that the clicker had approved before.
	already bool
	// run reports that this click completed a round: the action runs.
	run bool
	// round numbers the completed runs of the action on this message.
	round int
	// unchecked are approvers whose permission this click has not checked.
	unchecked []alertgroup.User
	// dropped counts, by reason, the approvals that no longer count.
	dropped map[string]int
}

// approve records c's approval of a in the store, checking again the
// permission of earlier approvers whenever the approval would complete a
// round. It returns false, with the outcome to show, when it cannot.
func (h *Handler) approve(ctx context.Context, c click, g alertgroup.Group, a *Action) (approval, outcome, bool) {
	now := h.now()
	// allowed records, by user id, whether an approver may still approve,
	// for those checked on this click; process authorized the clicker.
	allowed := map[string]bool{c.user.ID: true}
	var (
		ap  approval
		err error
	)
	for check := 0; ; check++ {
		_, err = h.groups.Update(ctx, g.Key, func(sg *alertgroup.Group, found bool) error {
			if !found {
				return errNotTracked
			}
			ap = approval{}
			return ap.add(sg, c.user, a, now, now.Add(h.approvalWindow), allowed)
		})
		if !errors.Is(err, errRecheck) || check == maxRechecks {
			break
		}
		for _, u := range ap.unchecked {
			reason, aerr := h.authorize(ctx, h.rule(a.ID), u.ID, commonLabels(g))
			if aerr != nil {
				h.logger.Error("cannot check authorization", "action", a.ID, "err", aerr)
				return approval{}, failed(aerr, "amslack could not check whether the earlier approvers may still approve (Slack user groups are unavailable). Your approval was not recorded; try again in a moment."), false
			}
			allowed[u.ID] = reason == ""
		}
	}
	if err != nil {
		return approval{}, failed(err, render.ApprovalRecordFailedReply(err)), false
	}
	return ap, outcome{}, true
}

// add adds user's approval of a to sg, within one store update: the
// approval counts until expires. It returns errRecheck when the approval
// would complete a round with approvers not in allowed.
func (ap *approval) add(sg *alertgroup.Group, user alertgroup.User, a *Action, now, expires time.Time, allowed map[string]bool) error {
	list, until, drop := countingApprovals(sg.State, a.ID, now, allowed)
	ap.dropped = drop
	if slices.ContainsFunc(list, func(u alertgroup.User) bool { return u.ID == user.ID }) {
		ap.already, ap.have = true, len(list)
		setApprovals(&sg.State, a.ID, list, until)
		return nil
	}
	list = append(list, user)
	until[user.ID] = expires
	ap.have = len(list)
	if ap.have < a.Approvals {
		setApprovals(&sg.State, a.ID, list, until)
		return nil
	}
	for _, u := range list {
		if _, ok := allowed[u.ID]; !ok {
			ap.unchecked = append(ap.unchecked, u)
		}
	}
	if len(ap.unchecked) > 0 {
		return errRecheck
	}
	// This click completes a round: clear the approvals in the same
	// update, so that one more click starts a new round rather than
	// running this one again.
	setApprovals(&sg.State, a.ID, nil, nil)
	ap.approvers, ap.run = list, true
	// The round number makes the idempotency key: every completed run of
	// the action on this message leaves one result.
	ap.round = 1
	for _, r := range sg.State.Results {
		if r.Action == a.ID {
			ap.round++
		}
	}
	return nil
}

// callAction calls a's internal API for a completed round of approvals,
// records the result and shows it in the thread.
func (h *Handler) callAction(ctx context.Context, c click, g alertgroup.Group, a *Action, approvers []alertgroup.User, round int) outcome {
	key := runbook.IdempotencyKey(c.team, c.channel, c.ts, a.ID, round)
	resp, err := h.caller.call(ctx, a, key, runbookRequest(c, g, a.ID, key, approvers))
	res := alertgroup.Result{Action: a.ID, By: c.user, At: h.now(), OK: err == nil && resp.OK, Detail: render.Clip(resp.Detail, maxDetail), Approvers: approvers}
	if err != nil {
		res.Detail = render.Clip(err.Error(), maxDetail)
	}
	_, uerr := h.groups.Update(ctx, g.Key, func(sg *alertgroup.Group, found bool) error {
		if !found {
			return errNotTracked
		}
		sg.State.Results = append(sg.State.Results, res)
		return nil
	})
	if uerr != nil {
		h.logger.Error("cannot record runbook result", "action", a.ID, "err", uerr)
	}
	h.refresh(ctx, g.Key, g.Route, render.ResultNote(a.Label, approvers, res))
	switch {
	case err != nil:
		return outcome{err: err, result: err.Error(), idemKey: key,
			text: render.RunFailedReply(a.Label, err)}
	case !resp.OK:
		err := fmt.Errorf("internal API answered not ok: %s", res.Detail)
		return outcome{err: err, result: err.Error(), idemKey: key,
			text: render.RunNotOKReply(a.Label, res.Detail)}
	}
	return outcome{
		text:    render.RunDoneReply(a.Label, res.Detail),
		result:  cmpOr(res.Detail, "ok"),
		idemKey: key,
	}
}

// countingApprovals returns the approvals of an action in st that still
// count at now, and when each of them stops counting. Approvals past their
// time, or without one (recorded before approvals had a window), are left
// out, and so are approvers known not to be allowed; dropped counts both
// by reason.
func countingApprovals(st alertgroup.State, id string, now time.Time, allowed map[string]bool) (list []alertgroup.User, until map[string]time.Time, dropped map[string]int) {
	until = map[string]time.Time{}
	dropped = map[string]int{}
	ends := st.ApprovalsUntil[id]
	for _, u := range st.Approvals[id] {
		end, timed := ends[u.ID]
		may, checked := allowed[u.ID]
		switch {
		case !timed || !end.After(now):
			dropped[approvalExpired]++
		case checked && !may:
			dropped[approvalRevoked]++
		default:
			list = append(list, u)
			until[u.ID] = end
		}
	}
	return list, until, dropped
}

// setApprovals stores the approvals of an action and when they stop
// counting; none removes the action's entries.
func setApprovals(st *alertgroup.State, id string, list []alertgroup.User, until map[string]time.Time) {
	if len(list) == 0 {
		delete(st.Approvals, id)
		delete(st.ApprovalsUntil, id)
		return
	}
	if st.Approvals == nil {
		st.Approvals = map[string][]alertgroup.User{}
	}
	if st.ApprovalsUntil == nil {
		st.ApprovalsUntil = map[string]map[string]time.Time{}
	}
	st.Approvals[id] = list
	st.ApprovalsUntil[id] = until
}

func runbookRequest(c click, g alertgroup.Group, action, key string, approvers []alertgroup.User) runbook.Request {
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
	secret, err := actionSecret(a)
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
	return " (" + render.Clip(d, 200) + ")"
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
