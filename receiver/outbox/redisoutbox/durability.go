package redisoutbox

import (
	"bufio"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// unknown stands for a setting that Redis would not tell: CONFIG can be
// renamed or denied to the client.
const unknown = "unknown"

// durability is what Redis offers to keep an acknowledged write.
type durability struct {
	// AppendOnly and AppendFsync are the server's appendonly and
	// appendfsync settings, or "unknown".
	AppendOnly, AppendFsync string
	// Replicas is the number of replicas connected to the server.
	Replicas int
}

// CheckDurability reads what the Redis server offers to keep a write (AOF
// and its fsync policy, see https://redis.io/docs/latest/operate/oss_and_stack/management/persistence/,
// and the replicas connected) and returns a warning when it falls short of
// what the outbox needs to keep every notification it accepted through a
// crash of Redis, or "" when it does not. It fails only when Redis cannot
// be asked at all.
func (o *Outbox) CheckDurability(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	info, err := o.c.Info(ctx, "replication").Result()
	if err != nil {
		return "", fmt.Errorf("read Redis replication info: %w", err)
	}
	d := durability{Replicas: connectedReplicas(info)}
	d.AppendOnly = o.config(ctx, "appendonly")
	d.AppendFsync = o.config(ctx, "appendfsync")
	return durabilityWarning(d, o.minAcks), nil
}

// config returns the value of the server setting name, or "unknown".
func (o *Outbox) config(ctx context.Context, name string) string {
	m, err := o.c.ConfigGet(ctx, name).Result()
	if err != nil {
		return unknown
	}
	v, ok := m[name]
	if !ok {
		return unknown
	}
	return v
}

// connectedReplicas returns, from the text of INFO replication, how many
// replicas are online: connected_slaves, less those listed in a state other
// than online; -1 if it is not there.
func connectedReplicas(info string) int {
	connected, online, listed := -1, 0, false
	s := bufio.NewScanner(strings.NewReader(info))
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if v, ok := strings.CutPrefix(line, "connected_slaves:"); ok {
			if n, err := strconv.Atoi(v); err == nil {
				connected = n
			}
			continue
		}
		// slave0:ip=…,port=…,state=online,offset=…: a replica that is
		// still syncing (wait_bgsave, send_bulk) acknowledges no WAIT.
		name, fields, _ := strings.Cut(line, ":")
		if n, ok := strings.CutPrefix(name, "slave"); ok && n != "" && strings.Trim(n, "0123456789") == "" {
			listed = true
			if slices.Contains(strings.Split(fields, ","), "state=online") {
				online++
			}
		}
	}
	if listed && connected >= 0 {
		return online
	}
	return connected
}

// durabilityWarning returns what d lacks for an outbox that waits for
// minAcks replicas after each write, or "" if nothing.
func durabilityWarning(d durability, minAcks int) string {
	if minAcks > 0 {
		if d.Replicas >= 0 && d.Replicas < minAcks {
			return fmt.Sprintf("the outbox waits for %d Redis replicas to acknowledge each notification, but %d are connected: "+
				"every notification fails with 503 until enough replicas connect", minAcks, d.Replicas)
		}
		return ""
	}
	if d.AppendOnly == "yes" && d.AppendFsync == "always" {
		return ""
	}
	if d.AppendOnly == unknown || d.AppendFsync == unknown {
		return fmt.Sprintf("cannot read Redis's persistence settings (CONFIG GET is not allowed; appendonly %s, appendfsync %s) "+
			"and no replica acknowledges the outbox's writes: unless Redis runs with appendonly yes and appendfsync always, "+
			"a notification acknowledged to Alertmanager can be lost when Redis crashes", d.AppendOnly, d.AppendFsync)
	}
	return fmt.Sprintf("Redis runs with appendonly %s, appendfsync %s, and no replica acknowledges the outbox's writes: "+
		"a notification acknowledged to Alertmanager can be lost when Redis crashes; "+
		"set appendonly yes and appendfsync always, or require replicas to acknowledge", d.AppendOnly, d.AppendFsync)
}
