package outbox

import (
	"encoding/hex"
	"slices"

	"go.etcd.io/bbolt"
)

// badRecord is a record that could not be decoded, copied out of its
// transaction.
type badRecord struct {
	key, value []byte
	err        error
}

func newBadRecord(k, v []byte, err error) badRecord {
	return badRecord{key: slices.Clone(k), value: slices.Clone(v), err: err}
}

// quarantine moves r from bucket to the quarantine bucket, under the
// bucket's name, 0x1f and its key, where an operator can inspect it with
// any bbolt tool.
func quarantine(tx *bbolt.Tx, bucket []byte, r badRecord) error {
	k := append(append(slices.Clone(bucket), 0x1f), r.key...)
	if err := tx.Bucket(quarantineBucket).Put(k, r.value); err != nil {
		return err
	}
	return tx.Bucket(bucket).Delete(r.key)
}

// quarantined counts and logs the records moved from bucket to the
// quarantine bucket.
func (o *Outbox) quarantined(bucket []byte, bad []badRecord) {
	for _, r := range bad {
		o.metrics.quarantined.WithLabelValues(string(bucket)).Inc()
		o.logger.Error("quarantined an outbox record that cannot be decoded",
			"bucket", string(bucket), "key", hex.EncodeToString(r.key), "quarantine", string(quarantineBucket), "err", r.err)
	}
}
