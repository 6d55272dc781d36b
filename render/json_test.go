package render

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestUnescapeHTML(t *testing.T) {
	for _, s := range []string{
		"<!here> & <https://example.com?a=1&b=2|link>",
		`a literal \u003c stays`,
		`\`,
		"\\\\u003e",
		"quote \" and \u2028 and \t",
		"",
	} {
		b, err := json.Marshal(map[string]string{"text": s})
		if err != nil {
			t.Fatal(err)
		}
		out := unescapeHTML(b)
		var got map[string]string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%q: unescaped JSON %s does not parse: %v", s, out, err)
		}
		if got["text"] != s {
			t.Errorf("%q: unescaped JSON %s decodes to %q", s, out, got["text"])
		}
		if strings.ContainsAny(s, "<>&") && strings.Contains(string(out), `\u00`) {
			t.Errorf("%q: still escaped: %s", s, out)
		}
	}
}
