package slackfake

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// maxBodyBytes caps a request body. Slack documents no exact figure; 50
// blocks at their largest stay far below it.
const maxBodyBytes = 4 << 20

// Sentinel errors for request bodies the fake cannot read; they map to
// Slack's invalid_form_data and invalid_json.
var (
	errFormData = errors.New("invalid form data")
	errJSONBody = errors.New("invalid JSON body")
)

// params are a Web API call's arguments, from a form (query string included)
// or a JSON body. Slack accepts both, and slack-go uses both: forms for
// chat.*, JSON for views.open.
type params struct {
	form url.Values
	json map[string]json.RawMessage
}

// readParams reads the call's arguments.
func readParams(r *http.Request) (params, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return params{}, errors.Join(errFormData, err)
	}
	if len(body) > maxBodyBytes {
		return params{}, errFormData
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/json" {
		p := params{form: r.URL.Query()}
		if len(bytes.TrimSpace(body)) == 0 {
			return p, nil
		}
		if err := json.Unmarshal(body, &p.json); err != nil {
			return params{}, errors.Join(errJSONBody, err)
		}
		return p, nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return params{}, errors.Join(errFormData, err)
	}
	for k, vs := range r.URL.Query() {
		if _, ok := form[k]; !ok {
			form[k] = vs
		}
	}
	return params{form: form}, nil
}

// has reports whether the argument was sent at all.
func (p params) has(name string) bool {
	if _, ok := p.json[name]; ok {
		return true
	}
	_, ok := p.form[name]
	return ok
}

// get returns an argument as a string. JSON strings are unquoted, numbers
// and booleans come back as their literal text, and anything else (null,
// arrays, objects) as "", which no string argument accepts.
func (p params) get(name string) string {
	if raw, ok := p.json[name]; ok {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		switch t := bytes.TrimSpace(raw); {
		case len(t) == 0, t[0] == '[', t[0] == '{', string(t) == "null":
			return ""
		default:
			return string(t)
		}
	}
	return p.form.Get(name)
}

// raw returns an argument that holds JSON: in a form it is a string of JSON,
// in a JSON body a nested value (or, leniently, a string of JSON).
func (p params) raw(name string) []byte {
	if raw, ok := p.json[name]; ok {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return []byte(s)
		}
		if string(raw) == "null" {
			return nil
		}
		return raw
	}
	if s := p.form.Get(name); s != "" {
		return []byte(s)
	}
	return nil
}

// bool returns a boolean argument ("true" or "1").
func (p params) bool(name string) bool {
	switch strings.ToLower(p.get(name)) {
	case "true", "1":
		return true
	}
	return false
}

// token returns the bot token from the form field or the Authorization
// header; slack-go sends the first for chat.* and the second for JSON calls.
func (p params) token(r *http.Request) string {
	if t := p.get("token"); t != "" {
		return t
	}
	if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return strings.TrimSpace(t)
	}
	return ""
}
