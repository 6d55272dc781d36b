package slackapi

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/time/rate"
)

func TestAdmission(t *testing.T) {
	t.Run("most urgent first, one token a slot", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			a := newAdmission(rate.NewLimiter(1, 1))
			if err := a.wait(t.Context(), Turn{Priority: 9}); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			old := start.Add(-time.Hour)
			type grant struct {
				name string
				at   time.Duration
			}
			grants := make(chan grant, 4)
			for _, w := range []struct {
				name string
				turn Turn
			}{
				{"info", Turn{Priority: 3, Since: old}},
				{"warning-new", Turn{Priority: 2, Since: start}},
				{"warning-old", Turn{Priority: 2, Since: old}},
				{"critical", Turn{Priority: 0, Since: start}},
			} {
				go func() {
					if err := a.wait(t.Context(), w.turn); err != nil {
						t.Error(err)
					}
					grants <- grant{w.name, time.Since(start)}
				}()
				synctest.Wait()
			}
			var got []grant
			for range 4 {
				got = append(got, <-grants)
			}
			want := []grant{{"critical", time.Second}, {"warning-old", 2 * time.Second}, {"warning-new", 3 * time.Second}, {"info", 4 * time.Second}}
			if diff := cmp.Diff(got, want, cmp.AllowUnexported(grant{})); diff != "" {
				t.Errorf("grants (-got +want):\n%s", diff)
			}
		})
	})

	t.Run("a waiter that gives up returns its token", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			a := newAdmission(rate.NewLimiter(1, 1))
			if err := a.wait(t.Context(), Turn{}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error)
			go func() { done <- a.wait(ctx, Turn{}) }()
			time.Sleep(500 * time.Millisecond)
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatalf("wait = %v, want %v", err, context.Canceled)
			}
			// The token held for the waiter went back to the bucket: the
			// next caller gets it when it comes due, half a second on,
			// rather than the one after it.
			start := time.Now()
			if err := a.wait(t.Context(), Turn{}); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d != 500*time.Millisecond {
				t.Errorf("next caller waited %s, want 500ms", d)
			}
		})
	})
}
