package alertgroup

import (
	"encoding/json"
	"errors"
	"fmt"
)

// EncodingVersion is the version of the Group encoding that EncodeGroup
// writes, in the record's "v" field. A record without the field is of the
// format written before versions existed, which version 1 reads as it is.
// A change that older amslack releases would misread takes the next
// version, so that they refuse such a record instead.
const EncodingVersion = 1

// ErrUnknownVersion is the error DecodeGroup wraps for a record whose
// version it does not read, such as one written by a newer amslack.
var ErrUnknownVersion = errors.New("unknown encoding version")

// record is a Group as stored: its JSON fields and the version.
type record struct {
	V int `json:"v"`
	Group
}

// ApplyUpdate is the part of Store.Update that every backend shares: it runs
// fn on old, or on a new Group for key when found is false, keeps key as
// the group's key and encodes the result for storing.
func ApplyUpdate(key Key, old Group, found bool, fn func(g *Group, found bool) error) (Group, []byte, error) {
	g := old
	if !found {
		g = Group{Key: key}
	}
	if err := fn(&g, found); err != nil {
		return Group{}, nil, err
	}
	g.Key = key
	v, err := EncodeGroup(g)
	if err != nil {
		return Group{}, nil, err
	}
	return g, v, nil
}

// EncodeGroup returns the JSON that every Store keeps for g.
func EncodeGroup(g Group) ([]byte, error) {
	b, err := json.Marshal(record{V: EncodingVersion, Group: g})
	if err != nil {
		return nil, fmt.Errorf("encode group: %w", err)
	}
	return b, nil
}

// DecodeGroup reads a record written by EncodeGroup, of this version or of
// an earlier one. It refuses a record of a later version, which a newer
// amslack wrote, rather than misread it.
func DecodeGroup(b []byte) (Group, error) {
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		// A later version may have changed the shape as well; say so
		// rather than blame the shape.
		var v struct {
			V int `json:"v"`
		}
		if json.Unmarshal(b, &v) == nil && v.V > EncodingVersion {
			return Group{}, versionError(v.V)
		}
		return Group{}, fmt.Errorf("decode group: %w", err)
	}
	if r.V < 0 || r.V > EncodingVersion {
		return Group{}, versionError(r.V)
	}
	return r.Group, nil
}

func versionError(v int) error {
	hint := ""
	if v > EncodingVersion {
		hint = ", so a newer release wrote it"
	}
	return fmt.Errorf("decode group: record version %d, this amslack reads versions up to %d%s: %w", v, EncodingVersion, hint, ErrUnknownVersion)
}
