--[[
  Waiting room: one step of a sale's queue, run by the single ticker that holds the lease (many times per
  admission interval). Every step: notes reservations made by admitted users (they stop counting as
  outstanding), frees the slots of admission windows that ended unused, hands out tickets to pre-start
  joiners (shuffled: in the order of their secret crypto keys) and then to late joiners (FIFO), and works
  out the sold-out state. Admission itself happens at most once per interval slot (floor(now/intervalMs)),
  so the ticks stay once per interval even when the lease changes hands or two processes overlap.

  KEYS[1] meta   KEYS[2] stock   KEYS[3] stats   KEYS[4] events   (the sale's own keys, see keys.ts)
  KEYS[5] state  KEYS[6] tickets KEYS[7] line    KEYS[8] pre      KEYS[9] late
  KEYS[10] admitted  KEYS[11] grants  KEYS[12] seen  KEYS[13] rate
  ARGV[1] startsAt (ms)  ARGV[2] endsAt (ms)  ARGV[3] intervalMs  ARGV[4] batchSize
  ARGV[5] over-admission factor   ARGV[6] grace period (ms)   ARGV[7] admission window (ms)
  ARGV[8] most tickets handed out per step by the shuffle   ARGV[9] most places passed per admission
  ARGV[10] rate window (ms)

  Returns {status, ticked, slot, serving, rateMilli, soldOut, soldOutChanged, shuffled, skipped, n, m,
           n admitted (user, ticket) pairs, then m (user, ticket) pairs handed out by the shuffle in this step}
  status: CLOSED (ticked = 1 the first time), WAITING (the sale is not open in Redis yet), OPEN.
  rateMilli: places passed per second x 1000 over the rate window, -1 when not measured yet.
  soldOut: 0 no, 1 stock is 0 but holds are outstanding, 2 final. shuffled: 1 when this step handed out
  tickets or finished the shuffle.
]]
--- @include "includes/now-ms"
local now = nowMs()
local startsAt, endsAt = tonumber(ARGV[1]), tonumber(ARGV[2])
local interval, batch, factor = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local grace, window = tonumber(ARGV[6]), tonumber(ARGV[7])
local chunk, maxScan, rateWindow = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])

local status = redis.call('HGET', KEYS[1], 'status')
if status == 'closed' or status == 'cancelled' or now >= endsAt then
  if redis.call('HSETNX', KEYS[5], 'closed', 1) == 1 then return {'CLOSED', 1} end
  return {'CLOSED', 0}
end

local st = redis.call('HMGET', KEYS[5], 'phase', 'serving', 'slot', 'soldOut', 'cursor', 'rate')
local phase = st[1] or 'pre'
local serving = tonumber(st[2] or '0')
local lastSlot = tonumber(st[3] or '-1')
local prevSoldOut = tonumber(st[4] or '0')
local rate = tonumber(st[6] or '-1')

local function spend(user)
  redis.call('HDEL', KEYS[11], user)
  redis.call('HDEL', KEYS[6], user)
end

-- Admitted users who reserved are no longer outstanding (the reservation script logs 'reserved' events;
-- one event lists the users of a batch of reservations, space-separated).
local from = st[5] and ('(' .. st[5]) or '-'
local evs = redis.call('XRANGE', KEYS[4], from, '+', 'COUNT', 1000)
for _, ev in ipairs(evs) do
  local f = ev[2]
  local typ, uids = nil, nil
  for i = 1, #f, 2 do
    if f[i] == 'type' then typ = f[i + 1] elseif f[i] == 'userId' then uids = f[i + 1] end
  end
  if typ == 'reserved' and uids then
    for uid in string.gmatch(uids, '%S+') do
      if redis.call('ZREM', KEYS[10], uid) == 1 then spend(uid) end
    end
  end
end
if #evs > 0 then redis.call('HSET', KEYS[5], 'cursor', evs[#evs][1]) end

-- Admission windows that ended unused free their slots.
local over = redis.call('ZRANGEBYSCORE', KEYS[10], '-inf', now, 'LIMIT', 0, 1000)
for _, uid in ipairs(over) do
  redis.call('ZREM', KEYS[10], uid)
  spend(uid)
end

-- At startsAt: tickets for the pre-start joiners in the order of their secret random keys, then the late ones.
local shuffled = 0
local handed = {}
if phase ~= 'live' and now >= startsAt then
  local next = tonumber(redis.call('HGET', KEYS[5], 'next') or '0')
  local function hand(zkey, limit)
    local popped = redis.call('ZPOPMIN', zkey, limit)
    for i = 1, #popped, 2 do
      next = next + 1
      redis.call('HSET', KEYS[6], popped[i], next)
      redis.call('ZADD', KEYS[7], next, popped[i])
      handed[#handed + 1] = popped[i]
      handed[#handed + 1] = next
    end
    return #popped / 2
  end
  shuffled = hand(KEYS[8], chunk)
  if shuffled < chunk then shuffled = shuffled + hand(KEYS[9], chunk - shuffled) end
  redis.call('HSET', KEYS[5], 'next', next)
  if redis.call('ZCARD', KEYS[8]) == 0 and redis.call('ZCARD', KEYS[9]) == 0 then
    phase = 'live'
    redis.call('HSET', KEYS[5], 'phase', 'live')
    shuffled = shuffled + 1 -- tell the gateways even when nobody was waiting
  end
end

-- Sold out: no stock left; final once no hold can come back.
local stock = redis.call('GET', KEYS[2])
local soldOut = 0
if status == 'open' and stock and tonumber(stock) <= 0 then
  local held = tonumber(redis.call('HGET', KEYS[3], 'held') or '0')
  if held > 0 then soldOut = 1 else soldOut = 2 end
end
if soldOut ~= prevSoldOut then redis.call('HSET', KEYS[5], 'soldOut', soldOut) end

-- Admission: once per interval slot.
local slot = math.floor(now / interval)
local ticked, skipped = 0, 0
local admitted, tickets = {}, {}
if phase == 'live' and slot > lastSlot then
  ticked = 1
  redis.call('HSET', KEYS[5], 'slot', slot)
  local selling = status == 'open' and stock and now >= startsAt
  local demand = selling and redis.call('ZCARD', KEYS[7]) > 0
  if selling then
    local room = math.min(batch, math.floor(tonumber(stock) * factor) - redis.call('ZCARD', KEYS[10]))
    local scanned, done = 0, false
    while not done and scanned < maxScan do
      local head = redis.call('ZRANGE', KEYS[7], 0, 99, 'WITHSCORES')
      if #head == 0 then break end
      for i = 1, #head, 2 do
        local uid, ticket = head[i], tonumber(head[i + 1])
        local seen = redis.call('ZSCORE', KEYS[12], uid)
        local alive = seen and tonumber(seen) >= now - grace
        if alive and #admitted >= room then done = true break end
        redis.call('ZREM', KEYS[7], uid)
        serving = ticket
        scanned = scanned + 1
        if alive then
          redis.call('ZADD', KEYS[10], now + window, uid)
          admitted[#admitted + 1] = uid
          tickets[#tickets + 1] = ticket
        else
          redis.call('HDEL', KEYS[6], uid) -- gone longer than the grace period: the place is lost
          skipped = skipped + 1
        end
      end
    end
    redis.call('HSET', KEYS[5], 'serving', serving)
    redis.call('HINCRBY', KEYS[5], 'admitted', #admitted)
    redis.call('HINCRBY', KEYS[5], 'skipped', skipped)
  end
  -- measured rate: places passed per second while the sale was open and people were waiting
  if demand then
    redis.call('LPUSH', KEYS[13], now .. ':' .. serving)
    redis.call('LTRIM', KEYS[13], 0, 255)
    local samples = redis.call('LRANGE', KEYS[13], 0, -1)
    local t0, s0 = nil, nil
    for i = 2, #samples do
      local ts, sv = string.match(samples[i], '^(%d+):(%d+)$')
      if tonumber(ts) < now - rateWindow then break end
      t0, s0 = tonumber(ts), tonumber(sv)
    end
    if t0 and now > t0 then rate = math.floor((serving - s0) * 1000000 / (now - t0)) else rate = -1 end
  else
    redis.call('DEL', KEYS[13])
    rate = -1
  end
  redis.call('HSET', KEYS[5], 'rate', rate)
end

local out = {'OPEN', ticked, slot, serving, rate, soldOut, (soldOut ~= prevSoldOut) and 1 or 0, (shuffled > 0) and 1 or 0,
  skipped, #admitted, #handed / 2}
if status ~= 'open' or not stock then out[1] = 'WAITING' end
for i, uid in ipairs(admitted) do
  out[#out + 1] = uid
  out[#out + 1] = tickets[i]
end
for _, v in ipairs(handed) do out[#out + 1] = v end
return out
