package interact

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/slack-go/slack"

	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// DefaultSilenceFollowInterval is how often the handler compares
// Alertmanager's silences with what the threads of the groups they cover
// have said of them.
const DefaultSilenceFollowInterval = 15 * time.Second

// DefaultSilenceExpiryLead is how long before a silence ends its groups'
// threads are warned, by default.
const DefaultSilenceExpiryLead = 10 * time.Minute

// MinSilenceExpiryLead is the shortest expiry warning lead: with a shorter
// one, the warning could come after the silence ended.
const MinSilenceExpiryLead = time.Minute

// silenceKeep is how long the record of a silence that ended stays in its
// group's state, so that a list of silences read before the end (by
// another replica) does not show it as a new one.
const silenceKeep = time.Hour

// silenceReplaceWindow is how far apart the end of one silence and the
// start of another may be for the second to count as the first, changed.
// Alertmanager changes a silence that it cannot update in place (its
// matchers changed) by expiring it and creating a new one in the same
// call.
const silenceReplaceWindow = 2 * time.Second

// silenceNotePostTimeout bounds the post of one expiry warning, the wait
// for Slack's rate limits included.
const silenceNotePostTimeout = time.Minute

// amslackAuthor starts the createdBy of the silences that amslack makes
// (see createdBy): amslack notes their creation and changes itself.
const amslackAuthor = "slack:"

// Kinds of notes, the values of the kind label of
// amslack_silence_notes_total.
const (
	noteSeen     = "seen"
	noteExpiring = "expiring"
	noteChanged  = "changed"
	noteExpired  = "expired"
)

// Results of amslack_silence_notes_total.
const (
	notePosted = "posted"
	noteFailed = "failed"
)

type silenceNoteMetrics struct {
	notes *prometheus.CounterVec
}

func newSilenceNoteMetrics(reg prometheus.Registerer) *silenceNoteMetrics {
	m := &silenceNoteMetrics{
		notes: promauto.With(reg).NewCounterVec(prometheus.CounterOpts{
			Namespace: "amslack",
			Name:      "silence_notes_total",
			Help: "Thread notes about silences, by kind (seen, expiring, changed, expired) and result: posted counts the notes handed to the outbox or posted to Slack, " +
				"failed those the outbox or Slack refused; a note that surely was not posted is tried again on the next pass.",
		}, []string{"kind", "result"}),
	}
	for _, k := range []string{noteSeen, noteExpiring, noteChanged, noteExpired} {
		for _, r := range []string{notePosted, noteFailed} {
			m.notes.WithLabelValues(k, r)
		}
	}
	return m
}

// followsSilences reports whether Run runs FollowSilences, which does
// nothing without a Refresher.
func (h *Handler) followsSilences() bool {
	_, ok := h.silences.(SilenceLister)
	return ok && h.silenceFollowInterval > 0
}

// FollowSilences makes one pass over the firing groups and Alertmanager's
// silences, and notes in each group's thread what became of the silences
// that cover its alerts, whether made from Slack or elsewhere:
//
//   - a silence first seen ("Silenced by bob until …"), unless amslack
//     made it and said so already;
//   - the end coming within the expiry lead ("Expires in 10m", with
//     Extend 1h and Expire now), posted through Slack;
//   - a change made in Alertmanager ("Silence changed in Alertmanager by
//     bob"), told by its end, matchers or comment;
//   - the end ("Silence expired: 3 alerts still firing"); a silence that
//     amslack made for the group then leaves its message, which shows the
//     group firing again with its buttons.
//
// Each note is recorded in the group's state (FollowedSilences) by the
// store update that finds it due, which is atomic, so that it is posted
// once across replicas and restarts; only the pass whose update recorded
// it posts it. Notes go through the Refresher, whose outbox is durable,
// with a refresh of the message; a note the outbox refuses is taken back
// for the next pass. An expiry warning that Slack surely did not post is
// taken back too; one whose outcome is unknown is kept, so that it is
// never posted twice. Run calls it every silence follow interval.
func (h *Handler) FollowSilences(ctx context.Context) error {
	lister, ok := h.silences.(SilenceLister)
	if !ok || h.refresher == nil {
		return nil
	}
	groups, err := h.groups.List(ctx)
	if err != nil {
		return fmt.Errorf("list groups: %w", err)
	}
	if !slices.ContainsFunc(groups, followable) {
		return nil
	}
	silences, err := lister.ListSilences(ctx)
	if err != nil {
		return fmt.Errorf("list silences: %w", err)
	}
	l := newSilenceListing(silences)
	now := h.now()
	var errs []error
	for _, g := range groups {
		if len(silenceEvents(g, l, h.expiryLead(), now)) == 0 {
			continue
		}
		if err := h.followGroup(ctx, g.Key, g.Route, l); err != nil {
			errs = append(errs, fmt.Errorf("group %q in %s: %w", g.Key.GroupKey, g.Key.Channel, err))
		}
	}
	return errors.Join(errs...)
}

// expiryLead is the expiry warning's lead, or 0 when warnings are off or
// cannot be posted.
func (h *Handler) expiryLead() time.Duration {
	if h.slack == nil {
		return 0
	}
	return h.silenceLead
}

// errNoSilenceNote aborts a store update that found no silence note due.
var errNoSilenceNote = errors.New("no silence note due")

// followGroup records the silence notes due for the group at key and
// posts them.
func (h *Handler) followGroup(ctx context.Context, key alertgroup.Key, route string, l silenceListing) error {
	now := h.now()
	var (
		events  []silenceEvent
		visible bool
	)
	stored, err := h.groups.Update(ctx, key, func(sg *alertgroup.Group, found bool) error {
		events, visible = nil, false
		if !found {
			return errNotTracked
		}
		// Decided on the stored group: another replica, or a click on
		// Extend or Expire now, may have come first.
		events = silenceEvents(*sg, l, h.expiryLead(), now)
		if len(events) == 0 {
			return errNoSilenceNote
		}
		for i := range events {
			visible = events[i].apply(sg, l, now) || visible
		}
		pruneFollowed(&sg.State, now)
		return nil
	})
	if errors.Is(err, errNotTracked) || errors.Is(err, errNoSilenceNote) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("record silence notes: %w", err)
	}
	var (
		notes []string
		noted []silenceEvent
		errs  []error
	)
	for _, ev := range events {
		if ev.kind != noteExpiring && ev.note != "" {
			notes, noted = append(notes, ev.note), append(noted, ev)
		}
	}
	if len(notes) > 0 || visible {
		if err := h.refresher.Refresh(ctx, key, route, notes...); err != nil {
			// Nothing will post the notes: forget them so that the next
			// pass notes them again.
			h.unfollow(ctx, key, noted)
			for _, ev := range noted {
				h.lmetrics.notes.WithLabelValues(ev.kind, noteFailed).Inc()
			}
			errs = append(errs, fmt.Errorf("queue silence notes: %w", err))
		} else {
			for _, ev := range noted {
				h.lmetrics.notes.WithLabelValues(ev.kind, notePosted).Inc()
				h.logger.Info("silence noted", "group_key", key.GroupKey, "channel", key.Channel,
					"route", route, "silence_id", ev.id, "kind", ev.kind)
			}
		}
	}
	for _, ev := range events {
		if ev.kind == noteExpiring {
			if err := h.warnExpiry(ctx, stored, ev, now); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// warnExpiry posts the expiry warning ev in the thread of g.
func (h *Handler) warnExpiry(ctx context.Context, g alertgroup.Group, ev silenceEvent, now time.Time) error {
	m := render.SilenceExpiringMessage(render.SilenceExpiring{
		By: silenceAuthor(ev.s.CreatedBy), EndsAt: ev.s.EndsAt, Left: ev.s.EndsAt.Sub(now),
		Matchers: matchersText(ev.s.Matchers), Controls: expiryControls(ev.s.ID),
	})
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), silenceNotePostTimeout)
	defer cancel()
	_, _, err := h.slack.PostMessageContext(pctx, g.Key.Channel,
		slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks.BlockSet...), slack.MsgOptionTS(g.TS))
	if err != nil {
		h.lmetrics.notes.WithLabelValues(noteExpiring, noteFailed).Inc()
		if unposted(err) {
			h.unfollow(ctx, g.Key, []silenceEvent{ev})
		} else {
			h.logger.Warn("silence expiry warning may not have been posted; it is not tried again, so that it is never posted twice",
				"group_key", g.Key.GroupKey, "channel", g.Key.Channel, "silence_id", ev.id, "err", err)
		}
		return fmt.Errorf("post expiry warning of silence %s: %w", ev.id, err)
	}
	h.lmetrics.notes.WithLabelValues(noteExpiring, notePosted).Inc()
	h.logger.Info("silence expiry warning posted", "group_key", g.Key.GroupKey, "channel", g.Key.Channel,
		"route", g.Route, "silence_id", ev.id, "ends_at", ev.s.EndsAt)
	return nil
}

// expiryControls are the expiry warning's buttons; each carries the
// silence's id.
func expiryControls(id string) []render.Control {
	return []render.Control{
		{ActionID: ActionSilenceExtend, Text: "Extend " + humanHours(silenceExtension), Value: id, Style: "primary"},
		{ActionID: ActionSilenceExpire, Text: "Expire now", Value: id, Style: "danger"},
	}
}

// humanHours writes a whole number of hours as 1h, 2h.
func humanHours(d time.Duration) string { return strconv.Itoa(int(d/time.Hour)) + "h" }

// unfollow takes back the records of the events, whose notes were not
// posted, where no one changed them since, so that the next pass notes
// them again.
func (h *Handler) unfollow(ctx context.Context, key alertgroup.Key, events []silenceEvent) {
	if len(events) == 0 {
		return
	}
	_, err := h.groups.Update(context.WithoutCancel(ctx), key, func(sg *alertgroup.Group, found bool) error {
		if !found {
			return errNotTracked
		}
		for _, ev := range slices.Backward(events) {
			for _, w := range ev.writes {
				cur, ok := sg.State.FollowedSilences[w.id]
				if !ok || !sameFollowed(cur, w.rec) {
					continue
				}
				if w.prev == nil {
					delete(sg.State.FollowedSilences, w.id)
				} else {
					sg.State.FollowedSilences[w.id] = *w.prev
				}
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errNotTracked) {
		h.logger.Error("cannot take back silence notes that were not posted; they are not posted",
			"group_key", key.GroupKey, "channel", key.Channel, "err", err)
	}
}

// silenceListing is Alertmanager's list of silences, by id.
type silenceListing struct {
	all  []amclient.ListedSilence
	byID map[string]int
}

func newSilenceListing(all []amclient.ListedSilence) silenceListing {
	l := silenceListing{all: all, byID: make(map[string]int, len(all))}
	for i, s := range all {
		l.byID[s.ID] = i
	}
	return l
}

func (l silenceListing) get(id string) (amclient.ListedSilence, bool) {
	i, ok := l.byID[id]
	if !ok {
		return amclient.ListedSilence{}, false
	}
	return l.all[i], true
}

// silenceEvent is one note due for one silence of a group.
type silenceEvent struct {
	// kind is noteSeen, noteExpiring, noteChanged or noteExpired.
	kind string
	id   string
	// s is the silence as listed; zero for one that is listed no more.
	s      amclient.ListedSilence
	listed bool
	// replaced is the id of the silence that s replaced, for a change
	// that Alertmanager made by replacing the silence.
	replaced string
	// early marks a silence that ended before its end time.
	early bool
	// silent marks an event that is recorded without a note: amslack made
	// the change and noted it itself.
	silent bool

	// Set by apply: the note to post ("" for none) and the records
	// written, with the ones they replaced.
	note   string
	writes []followedWrite
}

// followedWrite is one record that an event wrote.
type followedWrite struct {
	id   string
	prev *alertgroup.FollowedSilence // nil when there was none
	rec  alertgroup.FollowedSilence
}

// followable reports whether g's thread follows its silences: g fires in a
// Slack message whose alerts amslack knows.
func followable(g alertgroup.Group) bool {
	return g.Status == alertgroup.StatusFiring && !g.Key.IsWebhook() && g.TS != "" &&
		g.Message != nil && g.Message.Data != nil
}

// silenceEvents returns the notes due at now for the silences of g, as l
// lists them, with expiry warnings lead before the end (none when lead is
// 0): first those of the silences g's thread follows, by id, then those of
// silences seen for the first time, in l's order.
func silenceEvents(g alertgroup.Group, l silenceListing, lead time.Duration, now time.Time) []silenceEvent {
	if !followable(g) {
		return nil
	}
	var (
		evs     []silenceEvent
		claimed = map[string]bool{}
	)
	followed := g.State.FollowedSilences
	for _, id := range slices.Sorted(maps.Keys(followed)) {
		rec := followed[id]
		if !rec.EndedAt.IsZero() {
			continue
		}
		s, listed := l.get(id)
		if !listed || s.State == amclient.SilenceExpired || !s.EndsAt.After(now) {
			early := listed && s.EndsAt.Before(rec.EndsAt) || !listed && now.Before(rec.EndsAt)
			if early && listed {
				if r, ok := replacement(g, l, s, claimed, now); ok {
					claimed[r.ID] = true
					evs = append(evs, silenceEvent{kind: noteChanged, id: r.ID, s: r, listed: true, replaced: id,
						silent: strings.HasPrefix(r.CreatedBy, amslackAuthor)})
					if expiryDue(r, rec.WarnedFor, lead, now) {
						evs = append(evs, silenceEvent{kind: noteExpiring, id: r.ID, s: r, listed: true})
					}
					continue
				}
			}
			// A silence that amslack made and that no mark of the group
			// holds any more was ended early by a click, which said so.
			silent := early && rec.FromSlack && !markedSilence(g.State, id)
			evs = append(evs, silenceEvent{kind: noteExpired, id: id, s: s, listed: listed, early: early, silent: silent})
			continue
		}
		if !s.EndsAt.Equal(rec.EndsAt) || silenceDigest(s) != rec.Digest {
			evs = append(evs, silenceEvent{kind: noteChanged, id: id, s: s, listed: true,
				silent: strings.HasPrefix(s.CreatedBy, amslackAuthor)})
		}
		if expiryDue(s, rec.WarnedFor, lead, now) {
			evs = append(evs, silenceEvent{kind: noteExpiring, id: id, s: s, listed: true})
		}
	}
	for _, s := range l.all {
		if _, ok := followed[s.ID]; ok || claimed[s.ID] || !newlyCovering(g, s, now) {
			continue
		}
		// Alertmanager lists each silence once; the claim keeps a list
		// that did not from noting one twice.
		claimed[s.ID] = true
		evs = append(evs, silenceEvent{kind: noteSeen, id: s.ID, s: s, listed: true,
			silent: strings.HasPrefix(s.CreatedBy, amslackAuthor)})
		if expiryDue(s, time.Time{}, lead, now) {
			evs = append(evs, silenceEvent{kind: noteExpiring, id: s.ID, s: s, listed: true})
		}
	}
	return evs
}

// newlyCovering reports whether s is an active silence that covers one of
// g's firing alerts and that g's thread may start to follow: not an
// acknowledgement silence (amslack's, karma's or kthxbye's, which start
// "ACK!" and are kept while the alerts fire).
func newlyCovering(g alertgroup.Group, s amclient.ListedSilence, now time.Time) bool {
	if s.State != amclient.SilenceActive || !s.EndsAt.After(now) || strings.HasPrefix(s.Comment, "ACK!") {
		return false
	}
	if a := g.State.Acked; a != nil && a.SilenceID == s.ID {
		return false
	}
	return firingCovered(g, s) > 0
}

// replacement returns the silence that took the place of ended, which
// ended early: an active silence over g's alerts, not followed or claimed
// yet, that Alertmanager started as it ended the other.
func replacement(g alertgroup.Group, l silenceListing, ended amclient.ListedSilence, claimed map[string]bool, now time.Time) (amclient.ListedSilence, bool) {
	for _, s := range l.all {
		if _, ok := g.State.FollowedSilences[s.ID]; ok || claimed[s.ID] || s.ID == ended.ID {
			continue
		}
		if s.StartsAt.Sub(ended.EndsAt).Abs() <= silenceReplaceWindow && newlyCovering(g, s, now) {
			return s, true
		}
	}
	return amclient.ListedSilence{}, false
}

// expiryDue reports whether the expiry warning of s is due at now, lead
// before its end, when the last warning was for the end warnedFor.
func expiryDue(s amclient.ListedSilence, warnedFor time.Time, lead time.Duration, now time.Time) bool {
	return lead > 0 && s.State == amclient.SilenceActive && s.EndsAt.After(now) &&
		s.EndsAt.Sub(now) <= lead && !warnedFor.Equal(s.EndsAt)
}

// apply records ev in the group sg, sets ev's note, and reports whether it
// changed what the group's message shows (a mark of an amslack silence).
func (ev *silenceEvent) apply(sg *alertgroup.Group, l silenceListing, now time.Time) bool {
	st := &sg.State
	if st.FollowedSilences == nil {
		st.FollowedSilences = map[string]alertgroup.FollowedSilence{}
	}
	var visible bool
	switch ev.kind {
	case noteSeen:
		ev.write(st, ev.id, alertgroup.FollowedSilence{
			CreatedBy: ev.s.CreatedBy, EndsAt: ev.s.EndsAt, Digest: silenceDigest(ev.s),
			FromSlack: strings.HasPrefix(ev.s.CreatedBy, amslackAuthor), SeenAt: now,
		})
		if !ev.silent {
			// Alertmanager moves a start in the past to when it got the
			// silence, so a silence asked for 1h lasts 59m59.9s: the note
			// says the length to the minute, as it was asked.
			ev.note = render.SilenceSeenNote(silenceAuthor(ev.s.CreatedBy), ev.s.EndsAt, ev.s.EndsAt.Sub(ev.s.StartsAt).Round(time.Minute), matchersText(ev.s.Matchers))
		}
	case noteChanged:
		from := cmpOr(ev.replaced, ev.id)
		rec := st.FollowedSilences[from]
		if ev.replaced != "" {
			old := rec
			old.EndedAt = now
			ev.write(st, ev.replaced, old)
			rec.SeenAt = now
		}
		rec.CreatedBy, rec.EndsAt, rec.Digest = ev.s.CreatedBy, ev.s.EndsAt, silenceDigest(ev.s)
		ev.write(st, ev.id, rec)
		visible = moveMarks(st, from, ev.id, ev.s.EndsAt)
		if !ev.silent {
			ev.note = render.SilenceChangedNote(silenceAuthor(ev.s.CreatedBy), ev.s.EndsAt)
		}
	case noteExpiring:
		rec := st.FollowedSilences[ev.id]
		rec.WarnedFor = ev.s.EndsAt
		ev.write(st, ev.id, rec)
	case noteExpired:
		rec := st.FollowedSilences[ev.id]
		rec.EndedAt = now
		ev.write(st, ev.id, rec)
		firing := stillFiring(*sg, l, ev, now)
		visible = unmark(st, ev.id)
		if !ev.silent {
			ev.note = render.SilenceExpiredNote(firing, ev.early)
		}
	}
	return visible
}

// write sets the record of id in st, remembering the one it replaces.
func (ev *silenceEvent) write(st *alertgroup.State, id string, rec alertgroup.FollowedSilence) {
	w := followedWrite{id: id, rec: rec}
	if prev, ok := st.FollowedSilences[id]; ok {
		w.prev = &prev
	}
	st.FollowedSilences[id] = rec
	ev.writes = append(ev.writes, w)
}

// stillFiring counts the firing alerts of g that the ended silence of ev
// covered (all of them when it is listed no more) and that no other
// active silence covers at now.
func stillFiring(g alertgroup.Group, l silenceListing, ev *silenceEvent, now time.Time) int {
	var mine func(labels map[string]string) bool
	if ev.listed {
		ms, err := silenceLabelMatchers(ev.s.Matchers)
		if err == nil && len(ms) > 0 {
			mine = func(ls map[string]string) bool { return ms.Matches(labelSet(ls)) }
		}
	}
	var others []func(map[string]string) bool
	for _, s := range l.all {
		if s.ID == ev.id || s.State != amclient.SilenceActive || !s.EndsAt.After(now) {
			continue
		}
		if ms, err := silenceLabelMatchers(s.Matchers); err == nil && len(ms) > 0 {
			others = append(others, func(ls map[string]string) bool { return ms.Matches(labelSet(ls)) })
		}
	}
	n := 0
	for _, a := range g.Message.Alerts {
		if a.Status != alertgroup.StatusFiring || mine != nil && !mine(a.Labels) {
			continue
		}
		if !slices.ContainsFunc(others, func(covers func(map[string]string) bool) bool { return covers(a.Labels) }) {
			n++
		}
	}
	return n
}

// firingCovered counts the firing alerts of g that s's matchers match. A
// silence whose matchers Alertmanager would not accept covers nothing.
func firingCovered(g alertgroup.Group, s amclient.ListedSilence) int {
	ms, err := silenceLabelMatchers(s.Matchers)
	if err != nil || len(ms) == 0 || g.Message == nil || g.Message.Data == nil {
		return 0
	}
	n := 0
	for _, a := range g.Message.Alerts {
		if a.Status == alertgroup.StatusFiring && ms.Matches(labelSet(a.Labels)) {
			n++
		}
	}
	return n
}

// markedSilence reports whether a mark of st (the group's silence or a
// silence of one of its alerts) holds the silence id.
func markedSilence(st alertgroup.State, id string) bool {
	if m := st.Silenced; m != nil && m.SilenceID == id {
		return true
	}
	for _, m := range st.SilencedAlerts {
		if m.SilenceID == id {
			return true
		}
	}
	return false
}

// moveMarks makes the marks of st that hold the silence from hold the
// silence to, which ends at until, and reports whether any did.
func moveMarks(st *alertgroup.State, from, to string, until time.Time) bool {
	moved := false
	if m := st.Silenced; m != nil && m.SilenceID == from {
		kept := *m
		kept.SilenceID, kept.Until = to, until
		st.Silenced, moved = &kept, true
	}
	for fp, m := range st.SilencedAlerts {
		if m.SilenceID == from {
			m.SilenceID, m.Until = to, until
			st.SilencedAlerts[fp], moved = m, true
		}
	}
	return moved
}

// unmark removes the marks of st that hold the silence id, which ended, and
// reports whether there were any.
func unmark(st *alertgroup.State, id string) bool {
	removed := false
	if m := st.Silenced; m != nil && m.SilenceID == id {
		st.Silenced, removed = nil, true
	}
	for fp, m := range st.SilencedAlerts {
		if m.SilenceID == id {
			delete(st.SilencedAlerts, fp)
			removed = true
		}
	}
	if len(st.SilencedAlerts) == 0 {
		st.SilencedAlerts = nil
	}
	return removed
}

// pruneFollowed drops the records of silences that ended more than
// silenceKeep before now.
func pruneFollowed(st *alertgroup.State, now time.Time) {
	maps.DeleteFunc(st.FollowedSilences, func(_ string, rec alertgroup.FollowedSilence) bool {
		return !rec.EndedAt.IsZero() && now.Sub(rec.EndedAt) > silenceKeep
	})
	if len(st.FollowedSilences) == 0 {
		st.FollowedSilences = nil
	}
}

// sameFollowed reports whether two records are the same, their times
// compared as instants: a record read back from the store has lost the
// monotonic clock reading.
func sameFollowed(a, b alertgroup.FollowedSilence) bool {
	return a.CreatedBy == b.CreatedBy && a.EndsAt.Equal(b.EndsAt) && a.Digest == b.Digest &&
		a.FromSlack == b.FromSlack && a.SeenAt.Equal(b.SeenAt) && a.WarnedFor.Equal(b.WarnedFor) && a.EndedAt.Equal(b.EndedAt)
}

// silenceDigest sums up what of a silence besides its end a change in
// Alertmanager can touch: its matchers and comment.
func silenceDigest(s amclient.ListedSilence) string {
	f := fnv.New64a()
	f.Write([]byte(matchersText(s.Matchers)))
	f.Write([]byte{0})
	f.Write([]byte(s.Comment))
	return strconv.FormatUint(f.Sum64(), 16)
}

// silenceAuthor reads a silence's createdBy: the Slack user of a silence
// that amslack made ("slack:alice (U0001ALICE)", see createdBy), else the
// text as a name, which render shows escaped.
func silenceAuthor(createdBy string) alertgroup.User {
	if rest, ok := strings.CutPrefix(createdBy, amslackAuthor); ok && strings.HasSuffix(rest, ")") {
		if i := strings.LastIndex(rest, " ("); i >= 0 {
			return alertgroup.User{Name: rest[:i], ID: rest[i+2 : len(rest)-1]}
		}
	}
	return alertgroup.User{Name: createdBy}
}
