package interact

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type signingVector struct {
	Secret    string `json:"signing_secret"`
	Timestamp string `json:"timestamp"`
	Body      string `json:"body"`
	Signature string `json:"signature"`
}

func loadVector(t testing.TB) signingVector {
	t.Helper()
	b, err := os.ReadFile("testdata/signing-vector.json")
	if err != nil {
		t.Fatal(err)
	}
	var v signingVector
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func vectorHeader(ts, sig string) http.Header {
	h := http.Header{}
	if ts != "" {
		h.Set(HeaderSlackTimestamp, ts)
	}
	if sig != "" {
		h.Set(HeaderSlackSignature, sig)
	}
	return h
}

// TestSigningVector checks the HMAC against Slack's published example.
func TestSigningVector(t *testing.T) {
	v := loadVector(t)
	if diff := cmp.Diff(SlackSignature(v.Secret, v.Timestamp, []byte(v.Body)), v.Signature); diff != "" {
		t.Errorf("SlackSignature() (-got +want):\n%s", diff)
	}
	sec, err := strconv.ParseInt(v.Timestamp, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(sec, 0)
	tests := []struct {
		name   string
		header http.Header
		body   string
		secret string
		now    time.Time
		want   error
	}{
		{"valid at its time", vectorHeader(v.Timestamp, v.Signature), v.Body, v.Secret, at, nil},
		{"valid 5m later", vectorHeader(v.Timestamp, v.Signature), v.Body, v.Secret, at.Add(SignatureWindow), nil},
		{"stale", vectorHeader(v.Timestamp, v.Signature), v.Body, v.Secret, at.Add(SignatureWindow + time.Second), ErrStaleTimestamp},
		{"future", vectorHeader(v.Timestamp, v.Signature), v.Body, v.Secret, at.Add(-SignatureWindow - time.Second), ErrFutureTimestamp},
		{"hex in upper case", vectorHeader(v.Timestamp, "v0="+strings.ToUpper(v.Signature[3:])), v.Body, v.Secret, at, nil},
		{"other secret", vectorHeader(v.Timestamp, v.Signature), v.Body, "not-the-secret", at, ErrInvalidSignature},
		{"body changed", vectorHeader(v.Timestamp, v.Signature), v.Body + "&x=1", v.Secret, at, ErrInvalidSignature},
		{"timestamp changed", vectorHeader(strconv.FormatInt(sec+1, 10), v.Signature), v.Body, v.Secret, at, ErrInvalidSignature},
		{"no signature", vectorHeader(v.Timestamp, ""), v.Body, v.Secret, at, ErrMissingHeaders},
		{"no timestamp", vectorHeader("", v.Signature), v.Body, v.Secret, at, ErrMissingHeaders},
		{"timestamp not a number", vectorHeader("yesterday", v.Signature), v.Body, v.Secret, at, ErrInvalidTimestamp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyAt(tt.header, []byte(tt.body), tt.secret, tt.now)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("VerifyAt() = %v, want %v", err, tt.want)
			}
		})
	}
	// Against the real clock the example is years old.
	if err := VerifyRequest(vectorHeader(v.Timestamp, v.Signature), []byte(v.Body), v.Secret); !errors.Is(err, ErrStaleTimestamp) {
		t.Errorf("VerifyRequest(vector) = %v, want ErrStaleTimestamp", err)
	}
}

// TestVerifyRequest checks slack-go's verifier and the window with fresh
// timestamps.
func TestVerifyRequest(t *testing.T) {
	body := []byte("payload=%7B%7D")
	signed := func(at time.Time) http.Header {
		ts := strconv.FormatInt(at.Unix(), 10)
		return vectorHeader(ts, SlackSignature(testSecret, ts, body))
	}
	now := time.Now()
	tests := []struct {
		name   string
		header http.Header
		body   []byte
		want   error
	}{
		{"fresh", signed(now), body, nil},
		{"4 minutes old", signed(now.Add(-4 * time.Minute)), body, nil},
		{"4 minutes ahead", signed(now.Add(4 * time.Minute)), body, nil},
		{"6 minutes old", signed(now.Add(-6 * time.Minute)), body, ErrStaleTimestamp},
		{"6 minutes ahead", signed(now.Add(6 * time.Minute)), body, ErrFutureTimestamp},
		{"tampered body", signed(now), []byte("payload=%7B%22x%22%7D"), ErrInvalidSignature},
		{"signature not hex", vectorHeader(strconv.FormatInt(now.Unix(), 10), "v0=zz"), body, ErrInvalidSignature},
		{"signature wrong version", vectorHeader(strconv.FormatInt(now.Unix(), 10), "v1="+SlackSignature(testSecret, strconv.FormatInt(now.Unix(), 10), body)[3:]), body, ErrInvalidSignature},
		{"missing headers", http.Header{}, body, ErrMissingHeaders},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyRequest(tt.header, tt.body, testSecret)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("VerifyRequest() = %v, want %v", err, tt.want)
			}
		})
	}
}

// FuzzVerify checks that the slack-go path and VerifyAt agree, and that
// nothing but the exact signature passes.
func FuzzVerify(f *testing.F) {
	v := loadVector(f)
	now := strconv.FormatInt(time.Now().Unix(), 10)
	f.Add(v.Timestamp, v.Signature, []byte(v.Body))
	f.Add(now, SlackSignature(testSecret, now, []byte(v.Body)), []byte(v.Body))
	f.Add(now, "v0=", []byte(""))
	f.Add("-9223372036854775808", "v0=00", []byte("payload="))
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		h := vectorHeader(ts, sig)
		got := VerifyRequest(h, body, testSecret)
		// Read the clock after VerifyRequest, so that a timestamp at the
		// window's edge can only look older here.
		at := VerifyAt(h, body, testSecret, time.Now())
		if got == nil && !strings.EqualFold(sig, SlackSignature(testSecret, h.Get(HeaderSlackTimestamp), body)) {
			t.Fatalf("accepted a signature that is not the HMAC: ts=%q sig=%q", ts, sig)
		}
		if (got == nil) != (at == nil) && !errors.Is(at, ErrStaleTimestamp) {
			t.Fatalf("VerifyRequest() = %v but VerifyAt() = %v", got, at)
		}
	})
}
