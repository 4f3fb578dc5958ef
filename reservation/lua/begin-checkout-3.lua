--[[
  Start paying for a hold, atomically: the hold must be the caller's and still held and unexpired. It moves
  to state `paying` and leaves the holds zset (so the expiry sweeper leaves it alone) for the paying zset,
  and remembers the checkout's idempotency key, order id, payment method and job in checkout:<rid>.
  stats.held is unchanged (it counts held and paying units).
  KEYS[1] meta    {sale:<id>}:meta     (priceCents, productId)
  KEYS[2] holds   {sale:<id>}:holds    zset rid -> expiresAt, holds in state `held`
  KEYS[3] paying  {sale:<id>}:paying   zset rid -> checkout time (ms), holds in state `paying`
  ARGV[1] reservation id   ARGV[2] user id   ARGV[3] now (epoch ms)   ARGV[4] idempotency key
  ARGV[5] order id to use (a fresh uuid)     ARGV[6] payment method
  ARGV[7] id of the settlement job that will settle it (optional; default the reservation id)
  Returns {status, orderId, quantity, unitPriceCents, productId, checkoutAt, holdStatus, paymentMethod, jobId};
  status is one of
    OK         the hold is now paying under ARGV[5]
    DUPLICATE  the same key checked this hold out before: its order id, and the hold's status now
    CONFLICT   the hold was checked out under another key
    NOT_FOUND  no such hold, or not the caller's
    EXPIRED    the hold expired (or was released) before checkout
]]
--- @include "includes/hold-record"
local base = string.sub(KEYS[1], 1, -5)
local rid, userId, now, key = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local recordsKey, checkoutHash = base .. 'records', base .. 'checkout:' .. rid
local h = readHold(recordsKey, rid)
if not h or h.userId ~= userId then return {'NOT_FOUND', '', 0, 0, '', 0, '', ''} end
local c = redis.call('HMGET', checkoutHash, 'checkoutKey', 'orderId', 'checkoutAt', 'paymentMethod', 'jobId')
local meta = redis.call('HMGET', KEYS[1], 'priceCents', 'productId')
local qty, price, productId = tonumber(h.quantity), tonumber(meta[1]) or 0, meta[2] or ''
if c[1] then
  if c[1] ~= key then return {'CONFLICT', '', 0, 0, '', 0, h.status, ''} end
  return {'DUPLICATE', c[2], qty, price, productId, tonumber(c[3]), h.status, c[4], c[5] or rid}
end
if not holdCan(h.status, 'paying') or tonumber(h.expiresAt) <= now then return {'EXPIRED', '', 0, 0, '', 0, h.status, ''} end
local jobId = ARGV[7] or rid
setHoldStatus(recordsKey, rid, h, 'paying')
redis.call('HSET', checkoutHash, 'checkoutKey', key, 'orderId', ARGV[5], 'checkoutAt', now,
  'paymentMethod', ARGV[6], 'jobId', jobId)
redis.call('ZREM', KEYS[2], rid)
redis.call('ZADD', KEYS[3], now, rid)
return {'OK', ARGV[5], qty, price, productId, now, 'paying', ARGV[6], jobId}
