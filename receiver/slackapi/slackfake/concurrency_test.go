package slackfake

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
)

func TestConcurrentPosts(t *testing.T) {
	s := New(Options{Now: fixedClock})
	events, cancel := s.Subscribe()
	defer cancel()
	const workers, each = 8, 25
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			ch := "C" + strconv.Itoa(w%2)
			for i := range each {
				res := postForm(t, s, "chat.postMessage", form("channel", ch, "text", strconv.Itoa(i)))
				if res.status != http.StatusOK || res.body["ok"] != true {
					t.Errorf("post: %d %v", res.status, res.body)
				}
			}
		})
	}
	wg.Wait()

	var all []string
	for _, ch := range []string{"C0", "C1"} {
		var tss []string
		for _, m := range s.Messages(ch) {
			tss = append(tss, m.TS)
		}
		if !slices.IsSorted(tss) {
			t.Errorf("%s: messages out of ts order", ch)
		}
		all = append(all, tss...)
	}
	slices.Sort(all)
	if n := len(slices.Compact(all)); n != workers*each {
		t.Errorf("distinct timestamps = %d, want %d", n, workers*each)
	}
	if n := len(events); n != workers*each {
		t.Errorf("events = %d, want %d", n, workers*each)
	}
}

func BenchmarkPostMessage(b *testing.B) {
	blocks, err := os.ReadFile(filepath.Join("testdata", "blocks", "firing.json"))
	if err != nil {
		b.Fatal(err)
	}
	s := New(SlackRateLimits())
	f := form("channel", "C1", "text", "DiskFull firing", "blocks", string(blocks))
	b.ReportAllocs()
	for b.Loop() {
		// Reset keeps the rate limits and the records from growing.
		s.Reset()
		postForm(b, s, "chat.postMessage", f)
	}
}

func BenchmarkCheckBlocks(b *testing.B) {
	blocks, err := os.ReadFile(filepath.Join("testdata", "blocks", "firing.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := checkBlocks(blocks, "/blocks", maxMessageBlocks); err != nil {
			b.Fatal(err)
		}
	}
}
