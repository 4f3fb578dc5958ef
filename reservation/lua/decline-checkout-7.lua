--[[
  A checkout's card was declined: the shopper may try another card while the hold lasts. The declined
  hold ends (state paying -> released) and its units pass straight to a new hold of the same user, with a
  new reservation id (so the next payment has its own idempotency key at the PSP and its own order) and
  the same expiry. Stock, held and the user's count do not change: no unit moves (stats.reheld counts
  these holds, so that the console's count of reservations leaves them out). When the hold has
  expired or the sale is no longer open, the units go back to stock instead, as fail-checkout does.
  Idempotent: run again, it answers the hold made the first time (kept as `retryRid` in checkout:<rid>).
  KEYS[1] meta  KEYS[2] stock  KEYS[3] holds  KEYS[4] users  KEYS[5] stats  KEYS[6] events
  KEYS[7] paying  {sale:<id>}:paying
  ARGV[1] reservation id   ARGV[2] now (epoch ms)
  Returns {status, newReservationId, expiresAt}; status is
    REHELD    the units are held again under newReservationId until expiresAt (ms)
    RELEASED  the units went back to stock (the hold expired or the sale is not open)
    ALREADY   already released or expired earlier, with no new hold
    SOLD      refused: the hold was paid
    MISSING   no such hold
]]
--- @include "includes/return-hold"
--- @include "includes/hold-status"
local base = string.sub(KEYS[1], 1, -5)
local rid, now = ARGV[1], tonumber(ARGV[2])
local recordsKey, checkoutHash = base .. 'records', base .. 'checkout:' .. rid
local h = readHold(recordsKey, rid)
redis.call('ZREM', KEYS[7], rid)
if not h then return {'MISSING', '', 0} end
if h.status == 'sold' then return {'SOLD', '', 0} end
local retry = redis.call('HGET', checkoutHash, 'retryRid')
if retry then return {'REHELD', retry, tonumber(h.expiresAt)} end
if h.status ~= 'paying' or not holdCan(h.status, 'released') then return {'ALREADY', '', 0} end
local meta = redis.call('HMGET', KEYS[1], 'id', 'status', 'endsAt')
if tonumber(h.expiresAt) <= now or meta[2] ~= 'open' or now >= tonumber(meta[3]) then
  returnHold(base, KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], rid, 'released', h)
  return {'RELEASED', '', 0}
end
local seq = redis.call('INCR', base .. 'seq')
-- "<saleId>-<seq>-<Redis clock, µs, base 36>", as reserve-many makes them: unique across a rollback of seq.
local t = redis.call('TIME')
local micros, epoch = tonumber(t[1]) * 1000000 + tonumber(t[2]), ''
while micros > 0 do
  local d = micros % 36
  epoch = string.sub('0123456789abcdefghijklmnopqrstuvwxyz', d + 1, d + 1) .. epoch
  micros = (micros - d) / 36
end
local newRid = meta[1] .. '-' .. string.format('%d', seq) .. '-' .. epoch
setHoldStatus(recordsKey, rid, h, 'released')
redis.call('HSET', recordsKey, newRid, h.userId .. '|' .. h.quantity .. '|' .. h.expiresAt .. '|held|' .. ARGV[2])
redis.call('ZADD', KEYS[3], h.expiresAt, newRid)
redis.call('HSET', checkoutHash, 'retryRid', newRid)
redis.call('HINCRBY', KEYS[5], 'reheld', 1)
redis.call('XADD', KEYS[6], 'MAXLEN', '~', 100000, '*', 'type', 'reheld', 'rid', newRid, 'from', rid, 'userId', h.userId, 'quantity', h.quantity)
return {'REHELD', newRid, tonumber(h.expiresAt)}
