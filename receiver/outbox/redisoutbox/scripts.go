package redisoutbox

import "github.com/redis/go-redis/v9"

// The scripts below change the outbox atomically: Redis runs a script to
// its end before it serves another command. Each takes the outbox's key
// prefix as ARGV[1] and names its keys from it, which standalone Redis
// allows and Redis Cluster does not.
//
// A script answers with a status string first: "ok" (or "added" and
// "merged" for add), "conflict" when the pending entry of the key is not
// the one the caller merged with, "lost" when the channel's lease no
// longer holds the caller's token, "notinflight" and "notfound".

// lib holds the helpers that the scripts share; see the package
// documentation for the keys.
const lib = `
local P = ARGV[1]

-- count adds n to a channel's count in hash, and deletes it at zero.
local function count(hash, ch, n)
  if redis.call('HINCRBY', P .. hash, ch, n) <= 0 then
    redis.call('HDEL', P .. hash, ch)
  end
end

-- push makes the pending entry id of ch claimable: now if it has no next
-- attempt, else from its next attempt on.
local function push(id, ch)
  local f = redis.call('HMGET', P .. 'entry:' .. id, 'priority', 'score')
  if not f[1] then
    return
  end
  if f[2] and f[2] ~= '0' then
    redis.call('ZADD', P .. 'waiting:' .. ch, f[2], id)
  else
    redis.call('ZADD', P .. 'ready:' .. ch, f[1], id)
  end
end

-- conflict answers a caller whose view of the key's pending entry is out
-- of date with what it is now.
local function conflict(krec)
  local pid = redis.call('HGET', krec, 'pending')
  local ver = redis.call('HGET', krec, 'ver')
  local data = false
  if pid then
    data = redis.call('HGET', P .. 'entry:' .. pid, 'data')
  end
  return {'conflict', pid or '', ver or '', data or ''}
end

-- current reports whether the key's pending entry is the one the caller
-- read: pid at version ver, or none if pid is empty.
local function current(krec, pid, ver)
  local p = redis.call('HGET', krec, 'pending')
  if not p then
    return pid == ''
  end
  return p == pid and redis.call('HGET', krec, 'ver') == ver
end

-- inflight returns nil if id is in flight under token in ch, whose lease
-- holds lease, else the status that says what is wrong.
local function inflight(ch, lease, id, token, krec)
  if redis.call('GET', P .. 'lease:' .. ch) ~= lease then
    return 'lost'
  end
  if redis.call('HGET', P .. 'inflight:' .. ch, id) ~= token or redis.call('HGET', krec, 'inflight') ~= id then
    return 'notinflight'
  end
  return nil
end

-- requeue makes id, in flight, its key's pending entry again.
local function requeue(id, ch, krec)
  redis.call('HDEL', P .. 'inflight:' .. ch, id)
  redis.call('HDEL', krec, 'inflight')
  redis.call('HSET', krec, 'pending', id)
  redis.call('HINCRBY', krec, 'ver', 1)
  count('queued', ch, 1)
  push(id, ch)
end

-- finish deletes id, in flight, and lets the entry behind it be claimed.
local function finish(id, ch, krec)
  redis.call('DEL', P .. 'entry:' .. id)
  redis.call('HDEL', P .. 'inflight:' .. ch, id)
  redis.call('ZREM', P .. 'age', id)
  count('depth', ch, -1)
  redis.call('HDEL', krec, 'inflight')
  local pid = redis.call('HGET', krec, 'pending')
  if pid then
    push(pid, ch)
    redis.call('HINCRBY', krec, 'ver', 1)
    redis.call('PUBLISH', P .. 'wake', ch)
  else
    redis.call('DEL', krec)
  end
end

-- settle deletes id, in flight under token in ch, whose lease holds
-- lease, as finish does; it returns nil, or the status that says what is
-- wrong and changes nothing.
local function settle(ch, lease, id, token, krec)
  local bad = inflight(ch, lease, id, token, krec)
  if not bad then
    finish(id, ch, krec)
  end
  return bad
end

-- unpending deletes id, its key's pending entry.
local function unpending(id, ch)
  redis.call('DEL', P .. 'entry:' .. id)
  redis.call('ZREM', P .. 'ready:' .. ch, id)
  redis.call('ZREM', P .. 'waiting:' .. ch, id)
  redis.call('ZREM', P .. 'age', id)
  count('depth', ch, -1)
  count('queued', ch, -1)
end

-- undead deletes the dead letter id and reports whether there was one.
local function undead(id)
  if redis.call('HDEL', P .. 'dead:rec', id) == 0 then
    return false
  end
  redis.call('ZREM', P .. 'dead', id)
  redis.call('ZREM', P .. 'dead:at', id)
  return true
end
`

// addScript adds an entry as its key's pending one, or merges it into the
// pending one there is.
//
// ARGV: prefix, key, channel, the pending entry's ID and version that data
// was merged with (empty for none), data, priority, score, next, first-at
// score (empty for none), the dead letter to delete with it (empty for
// none).
var addScript = redis.NewScript(lib + `
local key, ch = ARGV[2], ARGV[3]
local krec = P .. 'key:' .. key
if ARGV[11] ~= '' and redis.call('HEXISTS', P .. 'dead:rec', ARGV[11]) == 0 then
  return {'notfound'}
end
if not current(krec, ARGV[4], ARGV[5]) then
  return conflict(krec)
end
if ARGV[11] ~= '' then
  undead(ARGV[11])
end
local id = ARGV[4]
local status = 'merged'
if id ~= '' then
  redis.call('HSET', P .. 'entry:' .. id, 'data', ARGV[6], 'priority', ARGV[7])
  if redis.call('ZSCORE', P .. 'ready:' .. ch, id) then
    redis.call('ZADD', P .. 'ready:' .. ch, ARGV[7], id)
  end
else
  status = 'added'
  id = string.format('%020d', redis.call('INCR', P .. 'seq'))
  redis.call('HSET', P .. 'entry:' .. id, 'data', ARGV[6], 'priority', ARGV[7], 'score', ARGV[8],
    'next', ARGV[9], 'key', key, 'channel', ch)
  redis.call('HSET', krec, 'pending', id)
  count('depth', ch, 1)
  count('queued', ch, 1)
  if not redis.call('HGET', krec, 'inflight') then
    push(id, ch)
  end
end
if ARGV[10] ~= '' then
  redis.call('ZADD', P .. 'age', ARGV[10], id)
end
redis.call('HINCRBY', krec, 'ver', 1)
redis.call('PUBLISH', P .. 'wake', ch)
return {status, id}
`)

// claimScript claims the entry of a channel that sends first, under the
// channel's lease.
//
// ARGV: prefix, channel, lease token, now's score. The answer is the
// status, the next attempt of the first entry waiting (empty for none),
// and for "ok" the entry's ID, data and key.
var claimScript = redis.NewScript(lib + `
local ch, token = ARGV[2], ARGV[3]
if redis.call('GET', P .. 'lease:' .. ch) ~= token then
  return {'lost', ''}
end
local ready, waiting = P .. 'ready:' .. ch, P .. 'waiting:' .. ch
for _, id in ipairs(redis.call('ZRANGEBYSCORE', waiting, '-inf', ARGV[4])) do
  local prio = redis.call('HGET', P .. 'entry:' .. id, 'priority')
  if prio then
    redis.call('ZADD', ready, prio, id)
  end
  redis.call('ZREM', waiting, id)
end
local next = ''
local first = redis.call('ZRANGE', waiting, 0, 0)
if first[1] then
  next = redis.call('HGET', P .. 'entry:' .. first[1], 'next') or ''
end
while true do
  local top = redis.call('ZPOPMIN', ready)
  if not top[1] then
    return {'none', next}
  end
  local id = top[1]
  local f = redis.call('HMGET', P .. 'entry:' .. id, 'key', 'data')
  if f[1] and f[2] then
    local krec = P .. 'key:' .. f[1]
    redis.call('HSET', P .. 'inflight:' .. ch, id, token)
    redis.call('HDEL', krec, 'pending')
    redis.call('HSET', krec, 'inflight', id)
    redis.call('HINCRBY', krec, 'ver', 1)
    count('queued', ch, -1)
    return {'ok', next, id, f[2], f[1]}
  end
end
`)

// doneScript deletes an entry in flight.
//
// ARGV: prefix, channel, lease token, ID, key.
var doneScript = redis.NewScript(lib + `
local bad = settle(ARGV[2], ARGV[3], ARGV[4], ARGV[3], P .. 'key:' .. ARGV[5])
return {bad or 'ok'}
`)

// retryScript makes an entry in flight pending again, merged with the
// pending entry behind it if there is one. A replica that takes a channel
// over uses it too, for the entries in flight under the lease before.
//
// ARGV: prefix, channel, lease token, ID, key, the token the entry is in
// flight under, the pending entry's ID and version that data was merged
// with (empty for none), data, priority, score, next, first-at score
// (empty for none).
var retryScript = redis.NewScript(lib + `
local ch, id = ARGV[2], ARGV[4]
local krec = P .. 'key:' .. ARGV[5]
local bad = inflight(ch, ARGV[3], id, ARGV[6], krec)
if bad then
  return {bad}
end
if not current(krec, ARGV[7], ARGV[8]) then
  return conflict(krec)
end
if ARGV[7] ~= '' then
  unpending(ARGV[7], ch)
end
redis.call('HSET', P .. 'entry:' .. id, 'data', ARGV[9], 'priority', ARGV[10], 'score', ARGV[11], 'next', ARGV[12])
if ARGV[13] ~= '' then
  redis.call('ZADD', P .. 'age', ARGV[13], id)
end
requeue(id, ch, krec)
redis.call('PUBLISH', P .. 'wake', ch)
return {'ok'}
`)

// deadScript moves an entry in flight to the dead-letter list, and drops
// the oldest dead letters beyond the limit.
//
// ARGV: prefix, channel, lease token, ID, key, dead letter data, its time's
// score, limit (0 for none). The answer is the status and the IDs dropped.
var deadScript = redis.NewScript(lib + `
local id = ARGV[4]
local bad = settle(ARGV[2], ARGV[3], id, ARGV[3], P .. 'key:' .. ARGV[5])
if bad then
  return {bad}
end
redis.call('HSET', P .. 'dead:rec', id, ARGV[6])
redis.call('ZADD', P .. 'dead', 0, id)
redis.call('ZADD', P .. 'dead:at', ARGV[7], id)
local dropped = {}
local limit = tonumber(ARGV[8])
if limit > 0 then
  local over = redis.call('ZCARD', P .. 'dead') - limit
  if over > 0 then
    for _, d in ipairs(redis.call('ZRANGE', P .. 'dead', 0, over)) do
      if #dropped >= over then
        break
      end
      if d ~= id then
        undead(d)
        table.insert(dropped, d)
      end
    end
  end
end
return {'ok', dropped}
`)

// quarantineScript moves an entry whose data cannot be decoded to the
// quarantine hash, if its data is still the same, and takes it out of the
// queue: a pending entry as it is, one in flight as Done does, under the
// lease.
//
// ARGV: prefix, channel, ID, key, data, the lease token and the token the
// entry is in flight under (both empty for a pending entry).
var quarantineScript = redis.NewScript(lib + `
local ch, id, lease = ARGV[2], ARGV[3], ARGV[6]
local krec = P .. 'key:' .. ARGV[4]
if redis.call('HGET', P .. 'entry:' .. id, 'data') ~= ARGV[5] then
  return {'notfound'}
end
if lease ~= '' then
  local bad = settle(ch, lease, id, ARGV[7], krec)
  if not bad then
    redis.call('HSET', P .. 'quarantine', 'pending:' .. id, ARGV[5])
  end
  return {bad or 'ok'}
end
if redis.call('HGET', krec, 'pending') ~= id then
  return {'notfound'}
end
redis.call('HSET', P .. 'quarantine', 'pending:' .. id, ARGV[5])
unpending(id, ch)
redis.call('HDEL', krec, 'pending')
if redis.call('HGET', krec, 'inflight') then
  redis.call('HINCRBY', krec, 'ver', 1)
else
  redis.call('DEL', krec)
end
return {'ok'}
`)

// leaseScript takes a channel's lease if nobody holds it, and requeues the
// entries left in flight under an older lease of the channel that have no
// pending entry behind them; it answers the others, whose merge happens in
// Go, with their IDs, tokens, keys and data.
//
// The token is the fence counter and the caller's nonce: after a failover
// to a Redis replica that had not yet received the last INCR, the counter
// can repeat, and the nonce keeps two leases from sharing a token.
//
// ARGV: prefix, channel, TTL in ms, owner, nonce. The answer is "held" and the
// lease's remaining ms, or "ok", the token, the number requeued, the
// previous owner, and the entries to merge.
var leaseScript = redis.NewScript(lib + `
local ch = ARGV[2]
local lease = P .. 'lease:' .. ch
if redis.call('EXISTS', lease) == 1 then
  return {'held', redis.call('PTTL', lease)}
end
local token = string.format('%d', redis.call('INCR', P .. 'fence')) .. '.' .. ARGV[5]
redis.call('SET', lease, token, 'PX', ARGV[3])
local prev = redis.call('HGET', P .. 'owners', ch) or ''
redis.call('HSET', P .. 'owners', ch, ARGV[4])
local requeued = 0
local merge = {}
local all = redis.call('HGETALL', P .. 'inflight:' .. ch)
for i = 1, #all, 2 do
  local id, tok = all[i], all[i + 1]
  local f = redis.call('HMGET', P .. 'entry:' .. id, 'key', 'data')
  if not f[1] then
    redis.call('HDEL', P .. 'inflight:' .. ch, id)
  else
    local krec = P .. 'key:' .. f[1]
    if redis.call('HGET', krec, 'pending') then
      table.insert(merge, {id, tok, f[1], f[2]})
    else
      requeue(id, ch, krec)
      requeued = requeued + 1
    end
  end
end
if requeued > 0 then
  redis.call('PUBLISH', P .. 'wake', ch)
end
return {'ok', token, requeued, prev, merge}
`)

// renewScript extends a lease that still holds the token.
//
// ARGV: prefix, channel, token, TTL in ms.
var renewScript = redis.NewScript(`
local lease = ARGV[1] .. 'lease:' .. ARGV[2]
if redis.call('GET', lease) ~= ARGV[3] then
  return 0
end
redis.call('PEXPIRE', lease, ARGV[4])
return 1
`)

// releaseScript deletes a lease that still holds the token, forgets its
// owner, so that the next holder can tell a release from a lease left to
// run out, and wakes the replicas waiting for it; "lost" if it holds
// another.
//
// ARGV: prefix, channel, token.
var releaseScript = redis.NewScript(`
local lease = ARGV[1] .. 'lease:' .. ARGV[2]
if redis.call('GET', lease) ~= ARGV[3] then
  return {'lost'}
end
redis.call('DEL', lease)
redis.call('HDEL', ARGV[1] .. 'owners', ARGV[2])
redis.call('PUBLISH', ARGV[1] .. 'wake', 'release\031' .. ARGV[2])
return {'ok'}
`)

// dropDeadScript deletes the dead letters named, and answers the IDs of
// those there were.
//
// ARGV: prefix, IDs.
var dropDeadScript = redis.NewScript(lib + `
local gone = {}
for i = 2, #ARGV do
  if undead(ARGV[i]) then
    table.insert(gone, ARGV[i])
  end
end
return gone
`)

// quarantineDeadScript moves a dead letter whose data cannot be decoded to
// the quarantine hash, if its data is still the same.
//
// ARGV: prefix, ID, data.
var quarantineDeadScript = redis.NewScript(lib + `
if redis.call('HGET', P .. 'dead:rec', ARGV[2]) ~= ARGV[3] then
  return 0
end
redis.call('HSET', P .. 'quarantine', 'dead:' .. ARGV[2], ARGV[3])
undead(ARGV[2])
return 1
`)
