package runbook_test

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amslack/amslack/interact/runbook"
)

func TestSignKnownValue(t *testing.T) {
	// Computed independently: printf '1700000000.{"ok":true}' |
	//   openssl dgst -sha256 -hmac s3cret
	got := runbook.Sign([]byte("s3cret"), "1700000000", []byte(`{"ok":true}`))
	want := "v1=95e532fd0d484d8db110942dc66b379dd229f38f9f5df856e97709db2bb1e3ac"
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("Sign() mismatch (-got +want):\n%s", diff)
	}
}

func TestVerify(t *testing.T) {
	secret := []byte("s3cret")
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"action":"approve_restart"}`)
	header := func(ts time.Time, sig string) http.Header {
		h := http.Header{}
		s := strconv.FormatInt(ts.Unix(), 10)
		h.Set(runbook.HeaderTimestamp, s)
		if sig == "" {
			sig = runbook.Sign(secret, s, body)
		}
		h.Set(runbook.HeaderSignature, sig)
		return h
	}
	tests := []struct {
		name   string
		header http.Header
		body   []byte
		want   error
	}{
		{"valid", header(now, ""), body, nil},
		{"valid at window edge past", header(now.Add(-5*time.Minute), ""), body, nil},
		{"valid at window edge future", header(now.Add(5*time.Minute), ""), body, nil},
		{"stale", header(now.Add(-5*time.Minute-time.Second), ""), body, runbook.ErrExpired},
		{"future", header(now.Add(5*time.Minute+time.Second), ""), body, runbook.ErrExpired},
		{"missing", http.Header{}, body, runbook.ErrMissingHeaders},
		{"bad timestamp", http.Header{runbook.HeaderTimestamp: {"soon"}, runbook.HeaderSignature: {"v1=00"}}, body, runbook.ErrInvalidTimestamp},
		{"tampered body", header(now, ""), []byte(`{"action":"drop_database"}`), runbook.ErrInvalidSignature},
		{"wrong prefix", header(now, "v0=abcd"), body, runbook.ErrInvalidSignature},
		{"wrong secret", header(now, runbook.Sign([]byte("other"), strconv.FormatInt(now.Unix(), 10), body)), body, runbook.ErrInvalidSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := runbook.Verify(secret, tt.header, tt.body, now, runbook.DefaultWindow)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("Verify() = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestIdempotencyKey(t *testing.T) {
	base := runbook.IdempotencyKey("T1", "C1", "1.2", "approve_restart", 1)
	if diff := cmp.Diff(base, runbook.IdempotencyKey("T1", "C1", "1.2", "approve_restart", 1)); diff != "" {
		t.Errorf("key not stable (-got +want):\n%s", diff)
	}
	if len(base) != 64 {
		t.Errorf("key %q is not hex SHA-256", base)
	}
	others := map[string]string{
		"round":     runbook.IdempotencyKey("T1", "C1", "1.2", "approve_restart", 2),
		"action":    runbook.IdempotencyKey("T1", "C1", "1.2", "restart", 1),
		"message":   runbook.IdempotencyKey("T1", "C1", "1.3", "approve_restart", 1),
		"channel":   runbook.IdempotencyKey("T1", "C2", "1.2", "approve_restart", 1),
		"team":      runbook.IdempotencyKey("T2", "C1", "1.2", "approve_restart", 1),
		"ambiguous": runbook.IdempotencyKey("T1C", "1", "1.2", "approve_restart", 1),
	}
	for name, k := range others {
		if k == base {
			t.Errorf("changing %s keeps the key", name)
		}
	}
}

func FuzzVerify(f *testing.F) {
	secret := []byte("s3cret")
	now := time.Unix(1_700_000_000, 0)
	f.Add("1700000000", runbook.Sign(secret, "1700000000", []byte("{}")), []byte("{}"))
	f.Add("1700000000", "v1=zz", []byte("{}"))
	f.Add("-1", "", []byte(nil))
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set(runbook.HeaderTimestamp, ts)
		h.Set(runbook.HeaderSignature, sig)
		err := runbook.Verify(secret, h, body, now, runbook.DefaultWindow)
		if err == nil && sig != runbook.Sign(secret, h.Get(runbook.HeaderTimestamp), body) {
			t.Fatalf("accepted a signature that Sign does not produce: ts=%q sig=%q", ts, sig)
		}
		// A correct signature is accepted whenever the timestamp is fresh.
		if sec, perr := strconv.ParseInt(h.Get(runbook.HeaderTimestamp), 10, 64); perr == nil && sec > now.Unix()-300 && sec < now.Unix()+300 {
			h.Set(runbook.HeaderSignature, runbook.Sign(secret, h.Get(runbook.HeaderTimestamp), body))
			if err := runbook.Verify(secret, h, body, now, runbook.DefaultWindow); err != nil {
				t.Fatalf("rejected a correct signature: %v", err)
			}
		}
	})
}
