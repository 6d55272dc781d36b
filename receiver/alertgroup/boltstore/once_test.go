package boltstore

import (
	"path/filepath"
	"testing"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/receiver/alertgroup/storetest"
)

func TestOnce(t *testing.T) {
	storetest.RunOnce(t, func(t *testing.T) alertgroup.Store {
		db := openBoltDB(t, filepath.Join(t.TempDir(), "amslack.db"))
		t.Cleanup(func() { db.Close() })
		s, err := Open(db)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, nil)
}

// TestOnceSurvivesReopen checks that a claim outlives the process that
// made it: a restarted amslack must not post a digest again.
func TestOnceSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "amslack.db")
	open := func() (*Store, func()) {
		db := openBoltDB(t, path)
		s, err := Open(db)
		if err != nil {
			t.Fatal(err)
		}
		return s, func() { db.Close() }
	}
	s, closeDB := open()
	if first, err := s.Once(t.Context(), "digest:a", 1<<40); err != nil || !first {
		t.Fatalf("Once = %v, %v; want true", first, err)
	}
	closeDB()
	s, closeDB = open()
	defer closeDB()
	if first, err := s.Once(t.Context(), "digest:a", 1<<40); err != nil || first {
		t.Errorf("Once after reopening = %v, %v; want false", first, err)
	}
}
