package config

import (
	"fmt"
	"net"
	"time"

	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
)

// Store is where the state of alert groups lives: embedded in
// --storage.path by default, or in Redis, shared by several replicas.
type Store struct {
	Redis *Redis `yaml:"redis,omitempty"`
}

// Redis is a Redis server.
type Redis struct {
	Address      string           `yaml:"address"`
	Username     string           `yaml:"username,omitempty"`
	Password     commoncfg.Secret `yaml:"password,omitempty"`
	PasswordFile string           `yaml:"password_file,omitempty"`
	DB           int              `yaml:"db,omitempty"`
	// KeyPrefix separates amslack's keys from others'; replicas that share
	// state use the same prefix.
	KeyPrefix string `yaml:"key_prefix,omitempty"`
	// Timeout bounds each Redis call: connecting, writing the command and
	// reading the answer (default DefaultRedisTimeout).
	Timeout model.Duration `yaml:"timeout,omitempty"`
	// MinReplicasToAck is how many Redis replicas must acknowledge each
	// accepted notification (Redis's WAIT) before Alertmanager gets its
	// 200. 0 relies on the server's own persistence, which must then be
	// appendfsync always for a 200 to survive a Redis crash.
	MinReplicasToAck int `yaml:"min_replicas_to_ack,omitempty"`
	// LeaseTTL is how long a replica's lease on delivering a channel lasts
	// without renewal: the longest a dead replica's work waits before
	// another replica takes it over (default DefaultLeaseTTL).
	LeaseTTL model.Duration `yaml:"lease_ttl,omitempty"`
}

// DefaultLeaseTTL is store.redis.lease_ttl when it is not set.
const DefaultLeaseTTL = model.Duration(15 * time.Second)

// DefaultRedisTimeout is store.redis.timeout when it is not set. Redis
// answers in well under a millisecond on a healthy network; a second means
// it is paused, overloaded or cut off.
const DefaultRedisTimeout = model.Duration(time.Second)

// DefaultRedis holds the values of the keys of store.redis that are not
// set.
var DefaultRedis = Redis{
	KeyPrefix: "amslack:",
	Timeout:   DefaultRedisTimeout,
	LeaseTTL:  DefaultLeaseTTL,
}

// validate fills in the defaults of store and checks it.
func (s *Store) validate() []error {
	r := s.Redis
	if r == nil {
		return nil
	}
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if _, _, err := net.SplitHostPort(r.Address); err != nil {
		bad("store.redis.address", "want host:port: %v", err)
	}
	if r.Password != "" && r.PasswordFile != "" {
		bad("store.redis", "at most one of password and password_file may be set")
	}
	if r.DB < 0 {
		bad("store.redis.db", "must not be negative")
	}
	if r.KeyPrefix == "" {
		r.KeyPrefix = DefaultRedis.KeyPrefix
	}
	if err := r.checkTimeout(); err != nil {
		errs = append(errs, err)
	}
	if r.MinReplicasToAck < 0 {
		bad("store.redis.min_replicas_to_ack", "must not be negative, got %d", r.MinReplicasToAck)
	}
	if r.LeaseTTL == 0 {
		r.LeaseTTL = DefaultRedis.LeaseTTL
	}
	// A renewal goes every third of the TTL and each call may take
	// store.redis.timeout: a TTL under three timeouts would lose leases to
	// one slow answer.
	if ttl := time.Duration(r.LeaseTTL); ttl < 3*time.Duration(r.Timeout) || ttl > 10*time.Minute {
		bad("store.redis.lease_ttl", "must be between 3×store.redis.timeout (%s) and 10m, got %s", 3*time.Duration(r.Timeout), r.LeaseTTL)
	}
	return errs
}

// checkTimeout defaults and bounds store.redis.timeout.
func (r *Redis) checkTimeout() error {
	if r.Timeout == 0 {
		r.Timeout = DefaultRedis.Timeout
	}
	if t := time.Duration(r.Timeout); t < 10*time.Millisecond || t > time.Minute {
		return fmt.Errorf("store.redis.timeout: must be between 10ms and 1m, got %s", r.Timeout)
	}
	return nil
}
