package redisoutbox

import (
	"testing"
	"time"

	"github.com/amslack/amslack/receiver/outbox"
	"github.com/amslack/amslack/receiver/outbox/outboxtest"
)

// FuzzDecodeRecord checks that the records read back from Redis (an ID
// and an entry's or a dead letter's data) decode without a panic, and that
// whatever decodes encodes to the same record again.
func FuzzDecodeRecord(f *testing.F) {
	at := outboxtest.Epoch
	for _, name := range []string{"v035-firing.json", "v035-resolved.json"} {
		e := outbox.Entry{Kind: outbox.KindNotify, Notification: outboxtest.Fixture(f, name, at), FirstAt: at, Attempts: 2, LastError: "x", NextAttempt: at.Add(time.Minute)}
		b, err := outbox.EncodeEntry(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(idString(7), b)
		d, err := outbox.EncodeDeadLetter(outbox.DeadLetter{Entry: e, Cause: "channel_not_found", At: at})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(idString(8), d)
	}
	f.Add(idString(1), []byte(`{"kind":"refresh","notification":{"key":{"channel":"C1"}}}`))
	f.Add(idString(1), []byte(`{"entry":{"kind":"refresh","notification":{"key":{"channel":"C1"}}},"cause":"x","at":"2026-11-29T14:00:00Z"}`))
	f.Add("7", []byte(`{"kind":"refresh","notification":{"key":{"channel":"C1"}}}`))
	f.Add("-0000000000000000001", []byte(`{}`))
	f.Add(idString(1), []byte(`{"kind":"other"}`))
	f.Fuzz(func(t *testing.T, id string, data []byte) {
		if e, err := decodeEntry(id, string(data)); err == nil {
			b, err := outbox.EncodeEntry(e)
			if err != nil {
				t.Fatalf("encode a decoded entry: %v", err)
			}
			e2, err := decodeEntry(id, string(b))
			if err != nil {
				t.Fatalf("decode an encoded entry: %v", err)
			}
			if b2, _ := outbox.EncodeEntry(e2); string(b2) != string(b) || e2.ID != e.ID || idString(e.ID) != id {
				t.Errorf("entry %s does not round-trip:\n%s\n%s", id, b, b2)
			}
		}
		if d, err := decodeDeadLetter(id, string(data)); err == nil {
			b, err := outbox.EncodeDeadLetter(d)
			if err != nil {
				t.Fatalf("encode a decoded dead letter: %v", err)
			}
			d2, err := decodeDeadLetter(id, string(b))
			if err != nil {
				t.Fatalf("decode an encoded dead letter: %v", err)
			}
			if b2, _ := outbox.EncodeDeadLetter(d2); string(b2) != string(b) || d2.ID != d.ID {
				t.Errorf("dead letter %s does not round-trip:\n%s\n%s", id, b, b2)
			}
		}
	})
}
