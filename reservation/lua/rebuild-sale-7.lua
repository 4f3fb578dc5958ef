--[[
  Rebuild a sale's Redis state after Redis lost acknowledged writes (a restart without fsync, a failover to a
  lagging replica, a restore), from what Postgres knows, atomically, and lift the fence:
  - every paid order (ARGV) is a sold hold (its record written back if lost or behind);
  - the counters are counted again from the hold records: sold = sold holds, held = held + paying holds,
    each user's units = their held, paying and sold holds;
  - if that is more than the quantity (units sold again after the loss), the newest `held` holds are
    released until it fits: those shoppers get 404/409 at checkout, and nothing is oversold;
  - stock = quantity - sold - held.
  KEYS[1] meta {sale:<id>}:meta   KEYS[2] stock   KEYS[3] holds (zset, held)   KEYS[4] users
  KEYS[5] stats   KEYS[6] paying (zset)   KEYS[7] sold (set)
  ARGV[1] now (epoch ms); then 3 per paid order: reservation id, user id, quantity
  Returns {soldUnits, heldUnits, stock, soldRestored, holdsReleased, overBy}; overBy > 0 only when paying
  holds alone exceed the quantity (left to settlement and reconciliation).
]]
--- @include "includes/hold-record"
local base = string.sub(KEYS[1], 1, -5)
local recordsKey = base .. 'records'
local now = ARGV[1]
local quantity = tonumber(redis.call('HGET', KEYS[1], 'quantity') or '0')

local paid, soldRestored = {}, 0
for i = 2, #ARGV, 3 do
  local rid, userId, q = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  paid[rid] = true
  local h = readHold(recordsKey, rid)
  if not h then
    redis.call('HSET', recordsKey, rid, userId .. '|' .. q .. '|' .. now .. '|sold|' .. now)
    soldRestored = soldRestored + 1
  elseif h.status ~= 'sold' then
    setHoldStatus(recordsKey, rid, h, 'sold')
    soldRestored = soldRestored + 1
  end
  redis.call('ZREM', KEYS[3], rid)
  redis.call('ZREM', KEYS[6], rid)
  redis.call('SADD', KEYS[7], rid)
end

local soldUnits, heldUnits, users = 0, 0, {}
local all = redis.call('HGETALL', recordsKey)
for i = 1, #all, 2 do
  local userId, q, _, status = string.match(all[i + 1], '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|')
  q = tonumber(q) or 0
  if status == 'sold' then
    soldUnits = soldUnits + q
  elseif status == 'held' or status == 'paying' then
    heldUnits = heldUnits + q
  end
  if status == 'sold' or status == 'held' or status == 'paying' then users[userId] = (users[userId] or 0) + q end
end

local released = 0
if soldUnits + heldUnits > quantity then
  local newest = redis.call('ZREVRANGE', KEYS[3], 0, -1)
  for _, rid in ipairs(newest) do
    if soldUnits + heldUnits <= quantity then break end
    local h = readHold(recordsKey, rid)
    if h and h.status == 'held' then
      local q = tonumber(h.quantity)
      setHoldStatus(recordsKey, rid, h, 'released')
      heldUnits = heldUnits - q
      users[h.userId] = users[h.userId] - q
      released = released + 1
    end
    redis.call('ZREM', KEYS[3], rid)
  end
end

local stock = quantity - soldUnits - heldUnits
local overBy = 0
if stock < 0 then
  overBy = -stock
  stock = 0
end
redis.call('SET', KEYS[2], stock)
redis.call('HSET', KEYS[5], 'held', heldUnits, 'sold', soldUnits)
redis.call('HINCRBY', KEYS[5], 'recoveries', 1)
redis.call('DEL', KEYS[4])
local hset = {}
for u, n in pairs(users) do
  if n > 0 then
    hset[#hset + 1] = u
    hset[#hset + 1] = n
  end
end
if #hset > 0 then redis.call('HSET', KEYS[4], unpack(hset)) end
redis.call('HDEL', KEYS[1], 'fenced')
return {soldUnits, heldUnits, stock, soldRestored, released, overBy}
