package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// RunOnce checks the claims of Store.Once and Store.Forget that every
// implementation shares. open returns an empty store that lives as long as
// its test; two stores that open returns in one test must share their
// claims when share is set (a store replicas share), as RunOnce then claims
// through both.
func RunOnce(t *testing.T, open func(t *testing.T) alertgroup.Store, share func(t *testing.T, s alertgroup.Store) alertgroup.Store) {
	t.Run("FirstOnly", func(t *testing.T) { testOnceFirstOnly(t, open) })
	t.Run("Forget", func(t *testing.T) { testOnceForget(t, open) })
	t.Run("Expires", func(t *testing.T) { testOnceExpires(t, open) })
	t.Run("Concurrent", func(t *testing.T) { testOnceConcurrent(t, open, share) })
}

// claim calls s.Once and fails the test on an error.
func claim(t *testing.T, s alertgroup.Store, name string, keep time.Duration) bool {
	t.Helper()
	first, err := s.Once(t.Context(), name, keep)
	if err != nil {
		t.Fatalf("Once(%q) error: %v", name, err)
	}
	return first
}

// testOnceFirstOnly checks that only the first claim of a name is first,
// and that names are claimed apart.
func testOnceFirstOnly(t *testing.T, open func(t *testing.T) alertgroup.Store) {
	s := open(t)
	if !claim(t, s, "digest:a", time.Hour) {
		t.Fatal("first Once(digest:a) = false, want true")
	}
	if claim(t, s, "digest:a", time.Hour) {
		t.Error("second Once(digest:a) = true, want false")
	}
	if !claim(t, s, "digest:b", time.Hour) {
		t.Error("Once(digest:b) after digest:a = false, want true")
	}
	if _, err := s.Once(t.Context(), "", time.Hour); err == nil {
		t.Error("Once with an empty name succeeded")
	}
}

// testOnceForget checks that a forgotten claim can be made again, and that
// forgetting a name never claimed is no error.
func testOnceForget(t *testing.T, open func(t *testing.T) alertgroup.Store) {
	s := open(t)
	claim(t, s, "digest:a", time.Hour)
	if err := s.Forget(t.Context(), "digest:a"); err != nil {
		t.Fatalf("Forget: %v", err)
	}
	if !claim(t, s, "digest:a", time.Hour) {
		t.Error("Once after Forget = false, want true")
	}
	if err := s.Forget(t.Context(), "never claimed"); err != nil {
		t.Errorf("Forget of a name never claimed: %v", err)
	}
}

// testOnceExpires checks that a claim ends once keep has passed.
func testOnceExpires(t *testing.T, open func(t *testing.T) alertgroup.Store) {
	s := open(t)
	const keep = 50 * time.Millisecond
	start := time.Now()
	claim(t, s, "digest:short", keep)
	// A slow machine may reach the second claim after keep; only one
	// made surely within keep must fail.
	if again := claim(t, s, "digest:short", keep); again && time.Since(start) < keep {
		t.Fatal("Once within keep = true, want false")
	}
	deadline := time.Now().Add(5 * time.Second)
	for !claim(t, s, "digest:short", time.Hour) {
		if time.Now().After(deadline) {
			t.Fatalf("claim kept for %s, want it to end after %s", 5*time.Second, keep)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testOnceConcurrent checks that of many concurrent claims of one name,
// through one store or, where share is set, through two that share their
// claims, exactly one is first.
func testOnceConcurrent(t *testing.T, open func(t *testing.T) alertgroup.Store, share func(t *testing.T, s alertgroup.Store) alertgroup.Store) {
	a := open(t)
	b := a
	if share != nil {
		b = share(t, a)
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		firsts int
	)
	for i := range 20 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			first, err := s.Once(t.Context(), "digest:race", time.Hour)
			if err != nil {
				t.Errorf("Once: %v", err)
				return
			}
			if first {
				mu.Lock()
				firsts++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firsts != 1 {
		t.Errorf("%d of 20 concurrent claims were first, want 1", firsts)
	}
}
