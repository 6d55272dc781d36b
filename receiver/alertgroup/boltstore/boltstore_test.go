package boltstore

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/bbolt"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/receiver/alertgroup/storetest"
)

// cmpOpts compares groups, which hold template.Data with its unexported
// field that JSON never carries.
var cmpOpts = cmpopts.IgnoreUnexported(template.Data{})

func openBoltDB(t *testing.T, path string) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) alertgroup.Store {
		db := openBoltDB(t, filepath.Join(t.TempDir(), "amslack.db"))
		t.Cleanup(func() { db.Close() })
		s, err := Open(db)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "amslack.db")
	db := openBoltDB(t, path)
	// Other parts of amslack share the database.
	if err := db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucket([]byte("outbox.pending"))
		if err != nil {
			return err
		}
		return b.Put([]byte("x"), []byte("y"))
	}); err != nil {
		t.Fatal(err)
	}
	s, err := Open(db)
	if err != nil {
		t.Fatal(err)
	}
	k := storetest.Key("Reopen")
	want := storetest.Put(t, s, k, func(g *alertgroup.Group) { g.TS, g.Message = "1.0", storetest.Message(t, "v025-firing.json") })
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openBoltDB(t, path)
	defer db.Close()
	s, err = Open(db)
	if err != nil {
		t.Fatal(err)
	}
	got, found, err := s.ByMessage(t.Context(), k.Channel, "1.0")
	if err != nil || !found {
		t.Fatalf("ByMessage after reopen = found %v, err %v", found, err)
	}
	if diff := cmp.Diff(got, want, cmpOpts); diff != "" {
		t.Errorf("after reopen (-got +want):\n%s", diff)
	}
	err = db.View(func(tx *bbolt.Tx) error {
		if v := tx.Bucket([]byte("outbox.pending")).Get([]byte("x")); string(v) != "y" {
			return fmt.Errorf("foreign bucket changed: %q", v)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

func TestQuarantine(t *testing.T) {
	storetest.RunQuarantine(t,
		func(t *testing.T, reg prometheus.Registerer) alertgroup.Store {
			db := openBoltDB(t, filepath.Join(t.TempDir(), "amslack.db"))
			t.Cleanup(func() { db.Close() })
			s, err := Open(db, WithRegisterer(reg))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		func(t *testing.T, s alertgroup.Store, k alertgroup.Key, v string) {
			err := s.(*Store).db.Update(func(tx *bbolt.Tx) error {
				return tx.Bucket(groupsBucket).Put([]byte(k.String()), []byte(v))
			})
			if err != nil {
				t.Fatal(err)
			}
		},
		func(t *testing.T, s alertgroup.Store) int {
			n := 0
			err := s.(*Store).db.View(func(tx *bbolt.Tx) error {
				n = tx.Bucket(quarantineBucket).Stats().KeyN
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return n
		})
}
