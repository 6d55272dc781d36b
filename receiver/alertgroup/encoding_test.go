package alertgroup_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/alertmanager/template"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/receiver/alertgroup/storetest"
)

// cmpOpts compares groups, which hold template.Data with its unexported
// field that JSON never carries.
var cmpOpts = cmpopts.IgnoreUnexported(template.Data{})

// fullGroup returns a group with every field set, as it is in
// testdata/group-v0.json.
func fullGroup(t testing.TB) alertgroup.Group {
	t0 := storetest.Epoch
	u1 := alertgroup.User{ID: "U1", Name: "ana"}
	u2 := alertgroup.User{ID: "U2", Name: "bo"}
	return alertgroup.Group{
		Key:     storetest.Key("DiskFull"),
		Route:   "db",
		TS:      "1764425522.000100",
		Status:  alertgroup.StatusFiring,
		Alerts:  map[string]string{"153de500f4e8a1e4": "firing", "211c19acb3be2082": "resolved"},
		Message: storetest.Message(t, "v035-firing.json"),
		State: alertgroup.State{
			Acked:          &alertgroup.Mark{By: u1, At: t0, Until: t0.Add(time.Hour)},
			Silenced:       &alertgroup.Mark{By: u2, At: t0.Add(time.Minute), Until: t0.Add(2 * time.Hour), SilenceID: "6f1e0c4a-silence"},
			Approvals:      map[string][]alertgroup.User{"approve_restart": {u1, {ID: "U3"}}},
			ApprovalsUntil: map[string]map[string]time.Time{"approve_restart": {"U1": t0.Add(30 * time.Minute)}},
			Results: []alertgroup.Result{
				{Action: "approve_restart", By: u2, At: t0.Add(5 * time.Minute), OK: true, Detail: "restarted db-1", Approvers: []alertgroup.User{u1, u2}},
				{Action: "drain", By: u1, At: t0.Add(6 * time.Minute), OK: false, Detail: "timeout"},
			},
		},
		NotifiedAt:   t0.Add(-time.Minute),
		PostingBy:    "replica-a",
		PostingUntil: t0.Add(10 * time.Second),
		AbsentSince:  t0.Add(3 * time.Minute),
		FirstAt:      t0,
		UpdatedAt:    t0.Add(7 * time.Minute),
		ResolvedAt:   t0.Add(8 * time.Minute),
	}
}

// TestDecodeUnversioned decodes a record in the format stores held before
// the encoding had a version, written by that release's encoder: such
// records stay in bbolt files and Redis across upgrades.
func TestDecodeUnversioned(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "group-v0.json"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(`"v":`)) {
		t.Fatal("testdata/group-v0.json has a version field; it must stay in the unversioned format")
	}
	got, err := alertgroup.DecodeGroup(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, fullGroup(t), cmpOpts); diff != "" {
		t.Errorf("DecodeGroup (-got +want):\n%s", diff)
	}
}

func TestEncodeVersioned(t *testing.T) {
	want := fullGroup(t)
	b, err := alertgroup.EncodeGroup(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte(`{"v":1,"key":`)) {
		t.Errorf("EncodeGroup = %.40s…, want the version first", b)
	}
	got, err := alertgroup.DecodeGroup(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, want, cmpOpts); diff != "" {
		t.Errorf("DecodeGroup(EncodeGroup) (-got +want):\n%s", diff)
	}
	// Apart from the version, the fields are those of the unversioned
	// format, so a release before versions reads the record too.
	old, err := os.ReadFile(filepath.Join("testdata", "group-v0.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := `{`+strings.TrimPrefix(string(b), `{"v":1,`), strings.TrimSpace(string(old)); got != want {
		t.Errorf("EncodeGroup without its version differs from the unversioned format:\n got %s\nwant %s", got, want)
	}
}

func TestDecodeUnknownVersion(t *testing.T) {
	for _, tc := range []struct{ name, record string }{
		{"same shape", `{"v":2,"key":{"receiver":"r","group_key":"g","channel":"C1"},"state":{}}`},
		{"new shape", `{"v":2,"key":"r/g/C1","state":[]}`},
		{"negative", `{"v":-1,"key":{"receiver":"r","group_key":"g","channel":"C1"},"state":{}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := alertgroup.DecodeGroup([]byte(tc.record))
			if !errors.Is(err, alertgroup.ErrUnknownVersion) {
				t.Fatalf("DecodeGroup error = %v, want %v", err, alertgroup.ErrUnknownVersion)
			}
			if !strings.Contains(err.Error(), "record version") {
				t.Errorf("error %q does not name the record's version", err)
			}
		})
	}
	for _, v := range []string{`"v":0,`, `"v":1,`, ``} {
		if _, err := alertgroup.DecodeGroup([]byte(`{` + v + `"key":{"receiver":"r","group_key":"g","channel":"C1"},"state":{}}`)); err != nil {
			t.Errorf("DecodeGroup of a record with %q: %v", v, err)
		}
	}
}

func FuzzDecodeGroup(f *testing.F) {
	for _, name := range []string{"v025-firing.json", "v035-firing.json", "v035-resolved.json"} {
		b, err := alertgroup.EncodeGroup(alertgroup.Group{Key: storetest.Key(name), TS: "1.0", Message: storetest.Message(f, name), FirstAt: storetest.Epoch})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"key":{},"alerts":{"a":"firing"},"state":{"acked":{"by":{"id":"U1"}}}}`))
	if b, err := os.ReadFile(filepath.Join("testdata", "group-v0.json")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := alertgroup.DecodeGroup(b)
		if err != nil {
			return
		}
		enc, err := alertgroup.EncodeGroup(g)
		if err != nil {
			t.Fatalf("encode a decoded group: %v", err)
		}
		g2, err := alertgroup.DecodeGroup(enc)
		if err != nil {
			t.Fatalf("decode an encoded group: %v", err)
		}
		enc2, err := alertgroup.EncodeGroup(g2)
		if err != nil {
			t.Fatal(err)
		}
		if string(enc) != string(enc2) {
			t.Errorf("encoding is not stable:\n%s\n%s", enc, enc2)
		}
	})
}
