package slackapi

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkLimiter measures the rate-limit bookkeeping of one send: finding
// the channel's bucket, reserving a slot and checking the method bucket.
func BenchmarkLimiter(b *testing.B) {
	for _, channels := range []int{1, 100, 10000} {
		b.Run(fmt.Sprintf("channels=%d", channels), func(b *testing.B) {
			l := NewLimiter(Limits{ChannelRate: 1e9, ChannelBurst: 1 << 30, MethodPerMinute: map[string]int{MethodUpdate: 1 << 30}}, nil)
			names := make([]Scope, channels)
			for i := range names {
				names[i] = ChannelScope(fmt.Sprintf("C%09d", i))
			}
			m := l.methods[MethodUpdate]
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				r := l.Slot(names[i%channels]).Reserve()
				if r.Delay() > 0 {
					b.Fatal("limited")
				}
				if err := m.wait(context.Background(), Turn{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestPerMinuteNeverExceedsN(t *testing.T) {
	// Whatever way Slack aligns its minute windows, amslack's per-minute
	// bucket admits at most n calls in any 60 seconds.
	for _, n := range []int{1, 20, 50, 100} {
		l := perMinute(n)
		start := time.Unix(0, 0)
		var times []time.Time
		for now := start; now.Before(start.Add(10 * time.Minute)); now = now.Add(10 * time.Millisecond) {
			if l.AllowN(now, 1) {
				times = append(times, now)
			}
		}
		for i := range times {
			j := i
			for j < len(times) && times[j].Sub(times[i]) < time.Minute {
				j++
			}
			if j-i > n {
				t.Fatalf("n=%d: %d calls within 60s starting at %s", n, j-i, times[i].Sub(start))
			}
		}
		// And it uses most of the allowance over the long run.
		if got, min := len(times), 10*(n-1)*98/100; got < min {
			t.Errorf("n=%d: only %d calls in 10 minutes, want at least %d", n, got, min)
		}
	}
}
