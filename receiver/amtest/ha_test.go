package amtest

import (
	"testing"
	"time"
)

// TestStartHA starts two peers and checks that each sees the other in its
// cluster status, and that a silence made on one reaches the other by
// gossip.
func TestStartHA(t *testing.T) {
	ams := StartHA(t, Config{}, 2, time.Second)
	for i, am := range ams {
		var status struct {
			Cluster struct {
				Status string
				Peers  []struct{ Name, Address string }
			}
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			am.do(t, "GET", "/api/v2/status", nil, &status)
			if status.Cluster.Status == "ready" && len(status.Cluster.Peers) == 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("peer %d: cluster %q with %d peers after 20s, want ready with 2", i, status.Cluster.Status, len(status.Cluster.Peers))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	id := ams[0].CreateSilence(t, "test", "ha", time.Hour, map[string]string{"alertname": "Gossip"})
	deadline := time.Now().Add(20 * time.Second)
	for len(ams[1].ActiveSilences(t)) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("silence %s made on the first peer not on the second after 20s", id)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
