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
}

// DefaultRedisTimeout is store.redis.timeout when it is not set. Redis
// answers in well under a millisecond on a healthy network; a second means
// it is paused, overloaded or cut off.
const DefaultRedisTimeout = model.Duration(time.Second)

// DefaultRedis holds the values of the keys of store.redis that are not
// set.
var DefaultRedis = Redis{
	KeyPrefix: "amslack:",
	Timeout:   DefaultRedisTimeout,
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
