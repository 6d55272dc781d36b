package render

import "encoding/json"

// MarshalIndent returns m as indented JSON, as Slack receives it. Slack's
// mrkdwn writes mentions and links in angle brackets (<!here>,
// <url|text>), which encoding/json would write as \u003c escapes.
func MarshalIndent(m Message) ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return unescapeHTML(b), nil
}

// unescapeHTML turns the escapes \u003c, \u003e and \u0026 of JSON b
// back into <, > and &. encoding/json writes them for JSON embedded in
// HTML, also inside the output of a type's own MarshalJSON, which
// json.Encoder.SetEscapeHTML does not reach. Other escapes stay as they
// are, an escaped backslash included.
func unescapeHTML(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 == len(b) {
			out = append(out, b[i])
			continue
		}
		if b[i+1] == 'u' && i+6 <= len(b) {
			switch string(b[i+2 : i+6]) {
			case "003c":
				out, i = append(out, '<'), i+5
				continue
			case "003e":
				out, i = append(out, '>'), i+5
				continue
			case "0026":
				out, i = append(out, '&'), i+5
				continue
			}
		}
		// Any other escape, copied whole: its second byte is never the
		// start of an escape.
		out, i = append(out, b[i], b[i+1]), i+1
	}
	return out
}
