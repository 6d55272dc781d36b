package preview

import (
	"encoding/json"
	"fmt"
)

// block is the part of a Block Kit block that finding its interactive
// elements needs.
type block struct {
	Type      string            `json:"type"`
	BlockID   string            `json:"block_id"`
	Accessory json.RawMessage   `json:"accessory"`
	Element   json.RawMessage   `json:"element"`
	Elements  []json.RawMessage `json:"elements"`
}

// element is an interactive element, or any other object that a block lists
// as its elements (context blocks list text and images).
type element struct {
	Type         string          `json:"type"`
	ActionID     string          `json:"action_id"`
	Text         json.RawMessage `json:"text"`
	Value        string          `json:"value"`
	Style        string          `json:"style"`
	Placeholder  json.RawMessage `json:"placeholder"`
	Options      []option        `json:"options"`
	OptionGroups []struct {
		Options []option `json:"options"`
	} `json:"option_groups"`
}

// option is a choice of a select, overflow menu or radio group.
type option struct {
	Text  json.RawMessage `json:"text"`
	Value string          `json:"value"`
}

// elements returns the block's elements that could carry an action_id, in
// the order Slack shows them.
func (b block) elements() []element {
	raws := make([]json.RawMessage, 0, len(b.Elements)+2)
	raws = append(raws, b.Elements...)
	raws = append(raws, b.Accessory, b.Element)
	var out []element
	for _, raw := range raws {
		if len(raw) == 0 {
			continue
		}
		var e element
		if json.Unmarshal(raw, &e) != nil {
			continue
		}
		out = append(out, e)
	}
	return out
}

// option returns the element's option with value.
func (e element) option(value string) (option, bool) {
	for _, o := range e.Options {
		if o.Value == value {
			return o, true
		}
	}
	for _, g := range e.OptionGroups {
		for _, o := range g.Options {
			if o.Value == value {
				return o, true
			}
		}
	}
	return option{}, false
}

// parseBlocks reads a blocks array as it was posted.
func parseBlocks(raw json.RawMessage) ([]block, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var bs []block
	if err := json.Unmarshal(raw, &bs); err != nil {
		return nil, fmt.Errorf("read blocks: %w", err)
	}
	return bs, nil
}

// findElement returns the element with actionID in the block with blockID.
// Slack makes action_ids unique within a block, and block_ids unique within
// a message or view, so the pair names one element.
func findElement(raw json.RawMessage, blockID, actionID string) (element, bool) {
	bs, err := parseBlocks(raw)
	if err != nil {
		return element{}, false
	}
	for _, b := range bs {
		if b.BlockID != blockID {
			continue
		}
		for _, e := range b.elements() {
			if e.ActionID == actionID && e.Type != "" {
				return e, true
			}
		}
	}
	return element{}, false
}
