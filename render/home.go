package render

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// Block ids of App Home, and the prefixes of those repeated per severity
// and per mark.
const (
	blockHomeNotice       = "home_notice"
	blockHomeFiring       = "home_firing"
	blockHomeFiringPrefix = "home_firing_"
	blockHomeOwn          = "home_own"
	blockHomeOwnPrefix    = "home_own_"
	blockHomeOwnMore      = "home_own_more"
	blockHomeEnding       = "home_ending"
	blockHomeEndingList   = "home_ending_list"
)

// Bounds of App Home. Slack allows 100 blocks in a Home view
// (https://docs.slack.dev/reference/views); the caps below keep the view
// within them whatever it lists: at most maxHomeSeverities sections of
// firing groups and maxHomeMarks marks, one section each.
const (
	maxHomeBlocks     = 100
	maxHomeSeverities = 8
	maxHomeMarks      = 40
	capHomeNotice     = 1000
)

// The blocks other than the per-severity and per-mark sections: notice,
// three headers, two dividers, the "no firing" or "more" sections, the
// ending list and its warning.
const _ = uint(maxHomeBlocks - maxHomeSeverities - maxHomeMarks - 12)

// Kinds of HomeMark.
const (
	HomeSilence      = "silence"
	HomeAlertSilence = "alert_silence"
	HomeAck          = "ack"
)

// Home is one user's App Home at Now: the firing groups, the silences and
// acknowledgements that the user made, and the silences that end within
// the next hour, whoever made them.
type Home struct {
	Firing []DigestGroup
	Marks  []HomeMark
	Ending []DigestSilence
	// EndingUnknown is set when Alertmanager's silences could not be
	// read; the Home says so.
	EndingUnknown bool
	// Notice is amslack's answer to the user's last click on the Home, in
	// mrkdwn that amslack wrote (escaped already); "" for none.
	Notice string
	Now    time.Time
}

// HomeMark is one silence or acknowledgement that the user made.
type HomeMark struct {
	// Kind is HomeSilence, HomeAlertSilence or HomeAck.
	Kind  string
	Group DigestGroup
	Mark  alertgroup.Mark
	// Alert names the one alert that a HomeAlertSilence covers, as
	// AlertNames writes its labels; not escaped.
	Alert string
	// Control, if set, is the mark's button, such as its Expire.
	Control *Control
}

// HomeView renders h as a Home tab view within Slack's limits: a header
// and a section per severity of the firing groups, most severe first;
// the user's marks, one section each with its button, soonest to end
// first; the silences ending within the hour, in time order. Lists that
// do not fit end with "…and N more".
func HomeView(h Home) slack.HomeTabViewRequest {
	var blocks []slack.Block
	if n := strings.TrimSpace(h.Notice); n != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(clip(n, capHomeNotice)), nil, nil, slack.SectionBlockOptionBlockID(blockHomeNotice)))
	}
	blocks = append(blocks, homeHeader(blockHomeFiring, fmt.Sprintf("🔥 Firing (%d)", len(h.Firing))))
	blocks = append(blocks, firingSections(h.Firing)...)
	blocks = append(blocks, slack.NewDividerBlock())
	blocks = append(blocks, homeHeader(blockHomeOwn, fmt.Sprintf("Your silences and acknowledgements (%d)", len(h.Marks))))
	blocks = append(blocks, markSections(h.Marks)...)
	blocks = append(blocks, slack.NewDividerBlock())
	blocks = append(blocks, homeHeader(blockHomeEnding, fmt.Sprintf("⏳ Silences ending in the next hour (%d)", len(h.Ending))))
	blocks = append(blocks, endingSection(h))
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: blocks}}
}

func homeHeader(id, text string) slack.Block {
	return slack.NewHeaderBlock(plainText(clip(text, maxHeaderText)), slack.HeaderBlockOptionBlockID(id))
}

// firingSections are the firing groups, a section per severity, most
// severe first and oldest first within one; severities past
// maxHomeSeverities share the last section.
func firingSections(firing []DigestGroup) []slack.Block {
	if len(firing) == 0 {
		return []slack.Block{homeSection(blockHomeFiringPrefix+"0", "Nothing is firing. 🎉")}
	}
	groups := slices.Clone(firing)
	slices.SortStableFunc(groups, func(a, b DigestGroup) int {
		sa, sb := digestSeverity(a.Group), digestSeverity(b.Group)
		return cmp.Or(cmp.Compare(SeverityRank(sb), SeverityRank(sa)), strings.Compare(sa, sb), a.Group.FirstAt.Compare(b.Group.FirstAt))
	})
	var (
		blocks []slack.Block
		start  int
	)
	for start < len(groups) {
		sev := digestSeverity(groups[start].Group)
		end := start + 1
		last := len(blocks) == maxHomeSeverities-1
		for end < len(groups) && (last || digestSeverity(groups[end].Group) == sev) {
			end++
		}
		title := "*" + SeverityIcon(sev) + " " + clipEscaped(sev, capSeverity) + "* (" + strconv.Itoa(end-start) + ")"
		if last && digestSeverity(groups[end-1].Group) != sev {
			title = "*Other severities* (" + strconv.Itoa(end-start) + ")"
		}
		part := groups[start:end]
		text := title + "\n" + fitLines(len(part), func(i int) string { return homeFiringLine(part[i]) }, 0, maxSectionText-runes(title)-1)
		blocks = append(blocks, homeSection(blockHomeFiringPrefix+strconv.Itoa(len(blocks)), text))
		start = end
	}
	return blocks
}

// homeFiringLine is a firing group's line: name, since when it fires, in
// which channel, who acknowledged or silenced it, and its link. It reads
// no clock, so that it changes only when the group does.
func homeFiringLine(dg DigestGroup) string {
	g := dg.Group
	var b strings.Builder
	b.WriteString("• " + digestName(g))
	if !g.FirstAt.IsZero() {
		b.WriteString(" — firing since " + slackDate(g.FirstAt))
	}
	b.WriteString(" in " + channelMention(g.Key.Channel))
	if a := g.State.Acked; a != nil {
		b.WriteString(" · ✋ " + who(a.By))
	}
	if s := g.State.Silenced; s != nil {
		b.WriteString(" · 🔕 " + who(s.By))
	}
	b.WriteString(messageLink(dg.Link))
	return b.String()
}

// markSections are the user's marks, one section each with its control as
// the accessory, soonest to end first (marks without an end last), at most
// maxHomeMarks and then how many more.
func markSections(marks []HomeMark) []slack.Block {
	if len(marks) == 0 {
		return []slack.Block{homeSection(blockHomeOwnPrefix+"0", "You have no silences or acknowledgements in amslack.")}
	}
	sorted := slices.Clone(marks)
	slices.SortStableFunc(sorted, func(a, b HomeMark) int {
		ua, ub := a.Mark.Until, b.Mark.Until
		switch {
		case ua.IsZero() != ub.IsZero():
			if ua.IsZero() {
				return 1
			}
			return -1
		}
		return ua.Compare(ub)
	})
	var blocks []slack.Block
	for i, m := range sorted[:min(len(sorted), maxHomeMarks)] {
		var acc *slack.Accessory
		if c := m.Control; c != nil && c.ActionID != "" && runes(c.ActionID) <= maxID && runes(c.Value) <= maxButtonValue {
			acc = slack.NewAccessory(controlElement(*c))
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(clip(homeMarkLine(m), maxSectionText)), nil, acc,
			slack.SectionBlockOptionBlockID(blockHomeOwnPrefix+strconv.Itoa(i))))
	}
	if rest := len(sorted) - maxHomeMarks; rest > 0 {
		blocks = append(blocks, slack.NewContextBlock(blockHomeOwnMore, mrkdwn(moreU(uint64(rest)))))
	}
	return blocks
}

// homeMarkLine says what the user did to which group, until when, and
// links to the group's message.
func homeMarkLine(m HomeMark) string {
	name := digestName(m.Group.Group)
	var b strings.Builder
	switch m.Kind {
	case HomeAlertSilence:
		b.WriteString("🔕 You silenced one alert of " + name)
		if a := oneLine(m.Alert); a != "" {
			b.WriteString(" (" + clipEscaped(a, capStateLine) + ")")
		}
	case HomeAck:
		b.WriteString("✋ You acknowledged " + name)
	default:
		b.WriteString("🔕 You silenced " + name)
	}
	// An acknowledgement lasts while the group fires, whatever the end of
	// its silence, which the reconciler extends.
	if !m.Mark.Until.IsZero() && m.Kind != HomeAck {
		b.WriteString(" until " + slackDate(m.Mark.Until))
	}
	if m.Group.Group.Status == alertgroup.StatusResolved {
		b.WriteString(" · resolved")
	}
	b.WriteString(messageLink(m.Group.Link))
	return b.String()
}

// endingSection lists the silences that end within the hour, in time
// order, as the digest does.
func endingSection(h Home) slack.Block {
	if h.EndingUnknown {
		return homeSection(blockHomeEndingList, "⚠️ Alertmanager's silences could not be read; none are listed.")
	}
	if len(h.Ending) == 0 {
		return homeSection(blockHomeEndingList, "No silence ends in the next hour.")
	}
	ending := slices.Clone(h.Ending)
	slices.SortStableFunc(ending, func(a, b DigestSilence) int { return a.EndsAt.Compare(b.EndsAt) })
	return homeSection(blockHomeEndingList, fitLines(len(ending), func(i int) string { return silenceLine(ending[i]) }, 0, maxSectionText))
}

func homeSection(id, text string) slack.Block {
	return slack.NewSectionBlock(mrkdwn(text), nil, nil, slack.SectionBlockOptionBlockID(id))
}
