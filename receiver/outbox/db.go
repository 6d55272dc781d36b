package outbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// OpenDB opens amslack's database, amslack.db in the directory path,
// creating both if needed. bbolt locks the file for one process at a time;
// a second amslack process on the same path fails after a second with an
// error that says so, rather than waiting for the lock forever.
func OpenDB(path string) (*bbolt.DB, error) {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("create storage directory: %w", err)
	}
	db, err := bbolt.Open(filepath.Join(path, "amslack.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("storage %s is locked by another amslack process: %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open storage %s: %w", path, err)
	}
	// Concurrent outbox writes share a commit through DB.Batch, which waits
	// this long for company. bbolt's default of 10ms is most of a lone
	// webhook's latency and caps a burst at one batch per 10ms; 1ms still
	// gathers whatever arrives during the previous commit's fsync.
	db.MaxBatchDelay = time.Millisecond
	return db, nil
}
